#!/usr/bin/env bash
# Recording through a disk-full episode: the simulated Coutances site (13 cameras of 720p
# main streams, about 3.3 MB/s in all) recorded onto a 60 MB tmpfs for SECONDS, so the disk
# is full after about 18 s; then everything put under a hold and recorded again (only held
# footage left: recording pauses), the hold released halfway (recording resumes).
# Per camera: seconds of the run covered by recorded footage (kept, or destroyed later to
# make room: the destruction register), seconds missing, and the gaps' reasons.
#
#   bench/diskfull.sh [SECONDS] [VIGIE]     (default 60, .build/release/vigie; needs root for mount)
#
# VIGIE may be another build of vigie (an earlier commit's, to compare side by side).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
vigie=${2:-$PWD/.build/release/vigie}
work=${BENCH_DIR:-/tmp/vigie-bench}/diskfull
[ -x "$vigie" ] || { echo "build first: make release" >&2; exit 1; }
mkdir -p "$work/disk"
mountpoint -q "$work/disk" && umount "$work/disk"
mount -t tmpfs -o size=60m tmpfs "$work/disk"
trap 'umount -l "$work/disk" 2>/dev/null || true' EXIT
site=$PWD/Layouts/coutances.yaml
store=$work/disk/storage
"$vigie" sim prepare --site "$site" --stream main > /dev/null

report() {  # report FROM_US TO_US: per camera, from its first picture after FROM: seconds recorded, holes, and the end short of TO
  sqlite3 -separator ' ' "$store/catalog.sqlite" "
    WITH covered AS (
      SELECT camera, start_us, end_us FROM segments
      UNION ALL SELECT camera, start_us, end_us FROM destructions WHERE destroyed_us IS NOT NULL),
    firsts AS (SELECT camera, MIN(start_us) AS first FROM covered WHERE start_us >= $1 - 2000000 GROUP BY camera),
    clipped AS (SELECT c.camera, MAX(c.start_us, f.first) AS s, MIN(c.end_us, $2) AS e, f.first FROM covered c JOIN firsts f ON f.camera = c.camera
      WHERE c.end_us > f.first AND c.start_us < $2)
    SELECT camera, printf('%.2f', (MIN(first) - $1) / 1e6), printf('%.1f', SUM(e - s) / 1e6),
      printf('%.1f', (MAX(e) - MIN(first)) / 1e6 - SUM(e - s) / 1e6), printf('%.2f', ($2 - MAX(e)) / 1e6)
      FROM clipped GROUP BY camera ORDER BY camera" |
    awk 'BEGIN { printf "  %-26s %13s %9s %8s %13s\n", "camera", "first picture", "recorded", "missing", "end to exit" }
      { printf "  %-26s %12ss %8ss %7ss %12ss\n", $1, $2, $3, $4, $5; lost += $4 } END { printf "  all cameras: %.1f s missing between their first and last pictures\n", lost }'
  echo "  gaps:"; sqlite3 "$store/catalog.sqlite" "SELECT '    ' || reason || ': ' || COUNT(*) || ' gap(s), ' || printf('%.1f', SUM(end_us - start_us) / 1e6) || ' s' FROM gaps WHERE end_us > $1 AND start_us < $2 GROUP BY reason"
}
now_us() { echo $(( $(date +%s%N) / 1000 )); }

echo "1. $seconds s of 13 cameras on a 60 MB disk ($vigie)"
from=$(now_us)
"$vigie" record --site "$site" --storage "$store" --duration "$seconds" --log-level error 2> "$work/record-1.log" || echo "  vigie record exited $?"
to=$(now_us)
report "$from" "$to"
echo "  destroyed to make room: $(sqlite3 "$store/catalog.sqlite" "SELECT COUNT(*) FROM destructions WHERE reason = 'storage full'" 2>/dev/null || echo '?') segments; errors logged: $(grep -c 'error\|critical' "$work/record-1.log" || true)"
"$vigie" recordings verify --site "$site" --storage "$store" --log-level error | tail -n 1 | sed 's/^/  verify: /'

echo "2. everything held, $seconds s, the hold released at half time"
"$vigie" hold add --site "$site" --storage "$store" --reference BENCH --cameras all --from "$(TZ=Europe/Paris date -d '-1 hour' '+%Y-%m-%d %H:%M:%S')" \
  --to "$(TZ=Europe/Paris date -d '+1 hour' '+%Y-%m-%d %H:%M:%S')" --reason bench > /dev/null
from=$(now_us)
"$vigie" record --site "$site" --storage "$store" --duration "$seconds" --log-level error 2> "$work/record-2.log" &
pid=$!
sleep $((seconds / 2))
"$vigie" hold release 1 --site "$site" --storage "$store" --reason bench > /dev/null
released=$(sqlite3 "$store/catalog.sqlite" "SELECT released_us FROM holds WHERE id = 1")
wait "$pid" || echo "  vigie record exited $?"
to=$(now_us)
report "$from" "$to"
sqlite3 "$store/catalog.sqlite" "SELECT '  ' || action || ' at +' || printf('%.1f', (at_us - $from) / 1e6) || ' s' FROM audit WHERE action LIKE 'storage.%' AND at_us >= $from"
echo "  hold released at +$(( (released - from) / 1000000 )) s; held footage destroyed while held: $(sqlite3 "$store/catalog.sqlite" "SELECT COUNT(*) FROM destructions WHERE destroyed_us BETWEEN $from AND $released")"
"$vigie" recordings verify --site "$site" --storage "$store" --log-level error | tail -n 1 | sed 's/^/  verify: /'
