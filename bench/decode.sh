#!/usr/bin/env bash
# Decode speed of Vigie's media layer against ffmpeg, side by side in one run.
# Decodes a 1080p and a 360p H.264 clip (street-like: mostly still, sensor noise) with
# one decoder thread, alternating the two programs, and prints frames per CPU-second
# (user + system time of the whole process, from GNU time) and the ratio vigie/ffmpeg.
#   bench/decode.sh [ROUNDS]      (default 5; needs `make release` first)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
vigie=.build/release/vigie
work=${BENCH_DIR:-/tmp/vigie-bench}
mkdir -p "$work"
[ -x "$vigie" ] || { echo "build first: make release" >&2; exit 1; }

clip() {  # name size bitrate
  local file="$work/$1.mkv"
  if [ ! -f "$file" ]; then
    # A static street-like picture (the simulator's frame) would need the simulator; testsrc2
    # with temporal noise gives the same mix: a still background, grain, a moving part.
    ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc2=size=$2:rate=25,noise=alls=6:allf=t" -t 20 \
      -c:v libx264 -preset veryfast -g 50 -bf 0 -b:v "$3" -pix_fmt yuv420p "$file"
  fi
  echo "$file"
}

cpu_of() {  # command... -> prints user+sys seconds
  /usr/bin/time -f "%U %S" -o "$work/time.txt" "$@" >/dev/null 2>"$work/err.txt" || { cat "$work/err.txt" >&2; exit 1; }
  awk '{ printf "%.3f", $1 + $2 }' "$work/time.txt"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

printf "%-6s %8s %14s %14s %8s\n" clip frames "vigie fr/cpu-s" "ffmpeg fr/cpu-s" "ratio"
for spec in "1080p 1920x1080 4M" "360p 640x360 600k"; do
  set -- $spec
  file=$(clip "street-$1" "$2" "$3")
  frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$file")
  : > "$work/v.txt"; : > "$work/f.txt"
  for _ in $(seq "$rounds"); do
    cpu_of "$vigie" bench decode "$file" --threads 1 >> "$work/v.txt"; echo >> "$work/v.txt"
    cpu_of ffmpeg -hide_banner -nostdin -threads 1 -i "$file" -f null - >> "$work/f.txt"; echo >> "$work/f.txt"
  done
  v=$(median < "$work/v.txt"); f=$(median < "$work/f.txt")
  awk -v n="$1" -v fr="$frames" -v v="$v" -v f="$f" \
    'BEGIN { printf "%-6s %8d %14.1f %14.1f %8.3f\n", n, fr, fr / v, fr / f, (fr / v) / (fr / f) }'
done
echo "(median of $rounds runs each, alternated; ratio > 1 means vigie decodes more frames per CPU-second)"
