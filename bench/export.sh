#!/usr/bin/env bash
# Evidence export against FFmpeg, side by side in one run:
# - `vigie export` of one hour of four cameras (one-minute segments, 720p at 2 Mbit/s: each
#   a copy of a real recorded segment, under its own catalog row), MP4 by stream copy with the
#   date-and-time track, the ONVIF signature inside each file, the signed manifest, SHA256SUMS;
# - `ffmpeg -f concat -c copy` of the same segments into one MP4 per camera (nothing signed);
# - `vigie export verify` of that export against `sha256sum` of the same files.
# Each timed RUNS times in turn, the page cache warm for both (the same files); medians.
#   bench/export.sh [RUNS] [CAMERAS] [HOURS]     (default 3 4 1; needs `make release` first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
cameras=${2:-4}
hours=${3:-1}
vigie=$PWD/.build/release/vigie
work=${BENCH_DIR:-/tmp/vigie-bench}/export
[ -x "$vigie" ] || { echo "build first: make release" >&2; exit 1; }
mkdir -p "$work"
. bench/bench-site.sh
site=$work/site.yaml
bench_site "$site" "$cameras"
store=$work/store-$cameras-$hours

# A real one-minute segment of a simulated 720p main stream: the template of every row.
template=$work/template.ts
bench_template "$template" "$site" "$work/recording"
if [ ! -f "$store/catalog.sqlite" ]; then
  rm -rf "$store"
  "$vigie" bench catalog --site "$site" --storage "$store" --hours "$hours" --template "$template"
  # Every row's file, a copy of its own (distinct files, as a recorder writes them).
  sqlite3 "$store/catalog.sqlite" "SELECT path FROM segments" | while read -r path; do
    mkdir -p "$store/$(dirname "$path")"
    cp "$template" "$store/$path"
  done
fi
ids=($(awk '/- id:/ { print $3 }' "$site"))
range=$(sqlite3 "$store/catalog.sqlite" "SELECT MIN(start_us) / 1000000, MAX(end_us) / 1000000 FROM segments")
first=${range%|*}; last=${range#*|}
local_time() { TZ=Europe/Paris date -d "@$1" '+%Y-%m-%d %H:%M:%S'; }
if ! "$vigie" requisition show BENCH-1 --site "$site" --storage "$store" > /dev/null 2>&1; then
  "$vigie" requisition add --number BENCH-1 --authority "banc d'essai" --basis 60-1 --cameras all \
    --from "$(local_time "$first")" --to "$(local_time "$last")" --site "$site" --storage "$store" > /dev/null
fi
bytes=$(sqlite3 "$store/catalog.sqlite" "SELECT SUM(bytes) FROM segments")
segments=$(sqlite3 "$store/catalog.sqlite" "SELECT COUNT(*) FROM segments")
echo "footage: $cameras cameras x $hours h: $segments segments, $((bytes / 1000000)) MB"

# The concat lists, one per camera, in time order.
for id in "${ids[@]}"; do
  sqlite3 "$store/catalog.sqlite" "SELECT path FROM segments WHERE camera = '$id' ORDER BY start_us" | sed "s|^|file '$store/|; s|\$|'|" > "$work/$id.list"
done
clock() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
: > "$work/vigie.txt"; : > "$work/ffmpeg.txt"; : > "$work/verify.txt"; : > "$work/sha256sum.txt"
for ((run = 0; run < runs; run++)); do
  rm -rf "$work/out-vigie" "$work/out-ffmpeg"
  mkdir -p "$work/out-ffmpeg"
  a=$(clock)
  "$vigie" export --requisition BENCH-1 --recipient "banc" --medium "disque" --output "$work/out-vigie" --site "$site" --storage "$store" > /dev/null 2> "$work/export.log"
  b=$(clock)
  for id in "${ids[@]}"; do
    ffmpeg -hide_banner -loglevel error -f concat -safe 0 -i "$work/$id.list" -c copy -y "$work/out-ffmpeg/$id.mp4"
  done
  c=$(clock)
  "$vigie" export verify "$work/out-vigie" > "$work/verify.out"
  d=$(clock)
  sha256sum "$work"/out-vigie/*.mp4 > /dev/null
  e=$(clock)
  echo "$b - $a" | bc >> "$work/vigie.txt"
  echo "$c - $b" | bc >> "$work/ffmpeg.txt"
  echo "$d - $c" | bc >> "$work/verify.txt"
  echo "$e - $d" | bc >> "$work/sha256sum.txt"
done
grep -q "^verified" "$work/verify.out" || { echo "the export did not verify:" >&2; cat "$work/verify.out" >&2; exit 1; }
exported=$(du -cb "$work"/out-vigie/*.mp4 | tail -1 | cut -f1)
copied=$(du -cb "$work"/out-ffmpeg/*.mp4 | tail -1 | cut -f1)
frames_vigie=$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$(ls "$work"/out-vigie/*.mp4 | head -1)")
frames_ffmpeg=$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$work/out-ffmpeg/${ids[0]}.mp4")
v=$(median < "$work/vigie.txt"); f=$(median < "$work/ffmpeg.txt"); y=$(median < "$work/verify.txt"); s=$(median < "$work/sha256sum.txt")
echo "export, $cameras cameras x $hours h ($runs runs, median): vigie export $v s (signed, manifest), ffmpeg -f concat -c copy $f s: ratio $(echo "scale=2; $v / $f" | bc)"
echo "  bytes out: vigie $exported, ffmpeg $copied; video frames of the first camera: vigie $frames_vigie, ffmpeg $frames_ffmpeg"
echo "verify: vigie export verify $y s, sha256sum of the same files $s s: ratio $(echo "scale=2; $y / $s" | bc)"
