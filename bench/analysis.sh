#!/usr/bin/env bash
# Indexing speed and quality of the analysis on the simulated city: writes SECONDS of the
# five cameras of bench/fixtures/analysis-town.yaml (`vigie sim archive`: the segments the
# recorder would have made, yesterday from 10:00), enters a requisition over it,
# analyses it (`vigie analyse`), then prints camera-seconds of footage per CPU-second (the
# analysis's own audit entry) and the truth's scores (`vigie sim score`).
# Side by side in one run, the same recordings (each camera's main stream, 1280x720, and its
# sub stream, 640x360, as the recorder records them by default) analysed twice: from the main
# streams (the default: scaled down) and from the sub streams (`vigie analyse --stream sub`).
# STREAMS="sub" runs one.
#   bench/analysis.sh [SECONDS] [VIGIE]   (default 240 s, .build/release/vigie)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-240}
vigie=${2:-.build/release/vigie}
work=${BENCH_DIR:-/tmp/vigie-bench}/analysis
site=bench/fixtures/analysis-town.yaml
[ -x "$vigie" ] || { echo "build first: make release" >&2; exit 1; }
scripts/install-analysis
rm -rf "$work" && mkdir -p "$work"
"$vigie" sim prepare --site "$site" --stream main > /dev/null
"$vigie" sim prepare --site "$site" --stream sub > /dev/null
day=$(TZ=Europe/Paris date -d yesterday +%Y-%m-%d)
from="$day 10:00:00"
to=$(TZ=Europe/Paris date -d "$from $seconds seconds" +"%Y-%m-%d %H:%M:%S")
"$vigie" sim archive --site "$site" --storage "$work/store" --from "$from" --to "$to" > /dev/null
for stream in ${STREAMS:-main sub}; do
  number=BENCH-$stream
  echo "== analysed from the $stream streams"
  "$vigie" requisition add --site "$site" --storage "$work/store" --number "$number" --authority "bench" --basis 77-1-1 --cameras all --from "$from" --to "$to" > /dev/null
  /usr/bin/time -f "analyse: %e s wall, %U s user + %S s system" "$vigie" analyse --site "$site" --storage "$work/store" --requisition "$number" --stream "$stream" 2>&1 | tail -3
  sqlite3 "$work/store/catalog.sqlite" "SELECT detail FROM audit WHERE action = 'analysis.run' AND requisition = '$number' ORDER BY rowid DESC LIMIT 1"
  "$vigie" sim score --site "$site" --storage "$work/store" --requisition "$number"
done
