#!/usr/bin/env bash
# CPU used to receive N simulated cameras (main streams, 1280x720 H.264 at 2 Mbit/s,
# replayed at real-time pace from the footage cache) for S seconds, as the recorder will.
# Side by side: the same footage received by N `ffmpeg -re -stream_loop -1 -i FILE -c copy -f null -`
# processes, one per camera (how a process-per-camera recorder receives).
#   bench/receive.sh [CAMERAS] [SECONDS]     (default 16 60; needs `make release` first)
set -euo pipefail
cd "$(dirname "$0")/.."
cameras=${1:-16}
seconds=${2:-60}
vigie=.build/release/vigie
work=${BENCH_DIR:-/tmp/vigie-bench}
mkdir -p "$work"
[ -x "$vigie" ] || { echo "build first: make release" >&2; exit 1; }

# Build the footage first (a one-off, not part of the measure).
ids=$("$vigie" cameras list | awk 'NR > 2 { print $2 }' | head -n "$cameras")
declare -A footage
for id in $ids; do
  footage[$id]=$("$vigie" sim prepare --cameras "$id" --stream main | awk '/^footage folder: / { sub(/^footage folder: /, ""); folder = $0 } $2 == "main" { print folder "/" $NF }')
done

echo "vigie: $cameras cameras, one process, $seconds s"
"$vigie" bench receive --cameras "$cameras" --seconds "$seconds" | tee "$work/receive-vigie.txt"

echo "ffmpeg: $cameras processes (-re -c copy -f null), $seconds s"
: > "$work/ffmpeg-times.txt"
for id in $ids; do
  file=${footage[$id]}
  ( /usr/bin/time -f "%U %S" -a -o "$work/ffmpeg-times.txt" \
      timeout -s INT "$seconds" ffmpeg -hide_banner -nostdin -loglevel error -re -stream_loop -1 -i "$file" -c copy -f null - \
      >/dev/null 2>&1 || true ) &
done
wait
ffmpeg_cpu=$(grep -E '^[0-9.]+ [0-9.]+$' "$work/ffmpeg-times.txt" | awk '{ s += $1 + $2 } END { printf "%.3f", s }')
vigie_cpu=$(sed -n 's/.*cpu_s=\([0-9.]*\).*/\1/p' "$work/receive-vigie.txt")
awk -v v="$vigie_cpu" -v f="$ffmpeg_cpu" -v s="$seconds" -v n="$cameras" 'BEGIN {
  printf "cpu seconds: vigie %.2f, ffmpeg x%d %.2f; per camera: vigie %.3f %% of a core, ffmpeg %.3f %%; ratio vigie/ffmpeg %.3f\n",
    v, n, f, v / s * 100 / n, f / s * 100 / n, v / f }'
