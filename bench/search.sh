#!/usr/bin/env bash
# Search latency over a synthetic 30-day object index of 110 cameras: `vigie bench index`
# fills one requisition's index (PER_HOUR passages per camera-hour over DAYS, one-minute
# segment rows, no footage), `vigie bench serve` serves it as the recorder would, and
# `vigie bench search` times searches through its Unix socket, each audited: red cars over
# the whole requisition; one colour on one camera for a day; people on three cameras for
# two hours; following a passage (`--like`). The cameras are a street grid (neighbours).
#   bench/search.sh [SEARCHES] [CAMERAS] [DAYS] [PER_HOUR]   (default 20 110 30 60)
set -euo pipefail
cd "$(dirname "$0")/.."
searches=${1:-20}
cameras=${2:-110}
days=${3:-30}
per_hour=${4:-60}
vigie=$PWD/.build/release/vigie
work=${BENCH_DIR:-/tmp/vigie-bench}/search
[ -x "$vigie" ] || { echo "build first: make release" >&2; exit 1; }
mkdir -p "$work"
site=$work/site-$cameras.yaml
store=$work/store-$cameras-$days-$per_hour
# A grid of streets, 10 cameras a row: each camera's neighbours are the next ones along its row and column.
{
  printf 'site:\n  name: Bench search\n  timezone: Europe/Paris\n  retention_days: 30\ncameras:\n'
  for ((i = 0; i < cameras; i++)); do
    n=()
    ((i % 10 > 0)) && n+=("$(printf 'cam-%03d' $((i - 1)))")
    ((i % 10 < 9 && i + 1 < cameras)) && n+=("$(printf 'cam-%03d' $((i + 1)))")
    ((i >= 10)) && n+=("$(printf 'cam-%03d' $((i - 10)))")
    ((i + 10 < cameras)) && n+=("$(printf 'cam-%03d' $((i + 10)))")
    printf '  - {id: cam-%03d, name: Camera %d, location: Rue %d, main: "sim://cam-%03d/main", neighbours: [%s]}\n' "$i" "$i" "$((i / 10))" "$i" "$(IFS=,; echo "${n[*]}")"
  done
} > "$site"
if [ ! -f "$store/catalog.sqlite" ]; then
  rm -rf "$store"
  from=$(TZ=Europe/Paris date -d "-$days days" +"%Y-%m-%d %H:%M:%S")
  to=$(TZ=Europe/Paris date +"%Y-%m-%d %H:%M:%S")
  "$vigie" requisition add --site "$site" --storage "$store" --number BENCH-S --authority bench --basis 77-1-1 --cameras all --from "$from" --to "$to" > /dev/null 2>&1
  "$vigie" bench index --site "$site" --storage "$store" --requisition BENCH-S --days "$days" --per-hour "$per_hour"
fi
echo "catalog: $(sqlite3 "$store/catalog.sqlite" "SELECT COUNT(*) FROM passages") passages, $(sqlite3 "$store/catalog.sqlite" "SELECT COUNT(*) FROM segments") segments, $(du -h "$store/catalog.sqlite" | cut -f1)"
"$vigie" bench serve --site "$site" --storage "$store" --log-level error 2> "$work/serve.log" &
server_pid=$!
trap 'kill $server_pid 2> /dev/null || true' EXIT
for _ in $(seq 100); do [ -S "$store/recorder.sock" ] && break; sleep 0.1; done
"$vigie" bench search --site "$site" --storage "$store" --requisition BENCH-S --searches "$searches"
