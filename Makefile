# Vigie: the two set-up commands are `make demo` and `make test`.
SWIFT ?= swift
JOBS ?= 2
VIGIE = .build/release/vigie

.PHONY: demo test build release deps deps-test bench clean

## demo: install what is missing, build, start a recorder on the simulated Tours centre and
## open the wall as its client; quitting the wall stops both. The first run renders the
## cameras' footage once (about 7 minutes on 2 cores for the 60 cameras' two streams), then
## it is cached.
demo: release
	@scripts/install-analysis || echo "the analysis engine could not be installed: search stays disabled"
	@echo "preparing the simulated cameras' footage (the first time only: several minutes)"
	@$(VIGIE) sim prepare | awk '/built/ { n++ } END { if (n) print n " simulated streams built (cached from now on)" }'
	$(VIGIE) demo

## test: install what is missing, build, run the whole suite against real FFmpeg and a real RTSP server
test: deps-test
	$(SWIFT) build --build-tests -j $(JOBS)
	$(SWIFT) test --skip-build

build: deps
	$(SWIFT) build -j $(JOBS)

release: deps
	$(SWIFT) build -c release -j $(JOBS)

deps:
	@scripts/install-deps build

deps-test:
	@scripts/install-deps test

## bench: the side-by-side benchmarks (numbers go in the issues' closing notes), about 10 minutes;
## bench/record.sh (110 cameras, 2 x 10 min) and bench/seek.sh (30-day catalog) run on their own
bench: release
	@scripts/install-deps bench
	bench/decode.sh
	bench/view.sh
	bench/receive.sh
	bench/wall.sh

clean:
	rm -rf .build
