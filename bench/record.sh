#!/usr/bin/env bash
# Recording N simulated cameras (main streams, 1280x720 H.264 at 2 Mbit/s, replayed at
# real-time pace) for S seconds: CPU per camera and segments lost.
# Side by side: one `ffmpeg -re -stream_loop -1 -i FILE -c copy -f segment -segment_time 60
# -segment_format mpegts` process per camera on the same footage (how Frigate records).
#   bench/record.sh [CAMERAS] [SECONDS]     (default 110 600; needs `make release` first)
# The N cameras replay the footage of the site's first 16 cameras in turn (16 footages to
# build once, not 110). Writes about 2 Mbit/s per camera to $BENCH_DIR (default /tmp/vigie-bench),
# deleted after each side.
set -euo pipefail
cd "$(dirname "$0")/.."
cameras=${1:-110}
seconds=${2:-600}
vigie=$PWD/.build/release/vigie
work=${BENCH_DIR:-/tmp/vigie-bench}/record
rm -rf "$work" && mkdir -p "$work"
[ -x "$vigie" ] || { echo "build first: make release" >&2; exit 1; }

site=$work/site.yaml
. bench/bench-site.sh
bench_site "$site" "$cameras"

echo "vigie record: $cameras cameras, one process, $seconds s"
/usr/bin/time -f "%U %S" -o "$work/vigie-time.txt" \
  "$vigie" record --site "$site" --storage "$work/vigie" --duration "$seconds" 2> "$work/vigie.log" || true
tail -n 1 "$work/vigie.log"
"$vigie" recordings verify --site "$site" --storage "$work/vigie" --log-level error > "$work/verify.txt" || true
tail -n 1 "$work/verify.txt"
segments=$(sqlite3 "$work/vigie/catalog.sqlite" "SELECT COUNT(*) FROM segments")
lost=$(sqlite3 "$work/vigie/catalog.sqlite" "SELECT COUNT(*) FROM gaps")
covered=$(sqlite3 "$work/vigie/catalog.sqlite" \
  "SELECT printf('%.1f', MIN(s)) FROM (SELECT SUM(end_us - start_us) / 1e6 AS s FROM segments GROUP BY camera)")
dropped=$(sed -n 's/.* \([0-9]*\) packets dropped.*/\1/p' "$work/vigie.log" | tail -n 1)
echo "vigie: $segments segments, $lost gaps, $dropped packets dropped, least-covered camera $covered s of $seconds s"
rm -rf "$work/vigie"

echo "ffmpeg: $cameras processes (-re -c copy -f segment, 60 s MPEG-TS), $seconds s"
: > "$work/ffmpeg-times.txt"
for ((i = 0; i < cameras; i++)); do
  src=${source_ids[$((i % 16))]}
  file=${footage[$src]}
  mkdir -p "$work/ffmpeg/$i"
  ( /usr/bin/time -f "%U %S" -a -o "$work/ffmpeg-times.txt" \
      timeout -s INT "$seconds" ffmpeg -hide_banner -nostdin -loglevel error -re -stream_loop -1 -i "$file" -c copy \
        -f segment -segment_time 60 -segment_format mpegts -reset_timestamps 1 "$work/ffmpeg/$i/%05d.ts" \
      >/dev/null 2>&1 || true ) &
done
wait
ffmpeg_segments=$(find "$work/ffmpeg" -name '*.ts' | wc -l)
rm -rf "$work/ffmpeg"
vigie_cpu=$(awk '{ s += $1 + $2 } END { printf "%.2f", s }' "$work/vigie-time.txt")
ffmpeg_cpu=$(grep -E '^[0-9.]+ [0-9.]+$' "$work/ffmpeg-times.txt" | awk '{ s += $1 + $2 } END { printf "%.2f", s }')
echo "ffmpeg: $ffmpeg_segments segments"
awk -v v="$vigie_cpu" -v f="$ffmpeg_cpu" -v s="$seconds" -v n="$cameras" 'BEGIN {
  printf "cpu seconds: vigie %.2f, ffmpeg x%d %.2f; per camera: vigie %.3f %% of a core, ffmpeg %.3f %%; ratio vigie/ffmpeg %.3f\n",
    v, n, f, v / s * 100 / n, f / s * 100 / n, v / f }'
