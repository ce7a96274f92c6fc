#!/usr/bin/env bash
# `vigie view` against timg and mpv on the same street-camera footage, side by side:
# bytes per frame, picture quality (PSNR of the replayed screen against the source
# frame, bench/vtscore.py) and CPU per frame, with `ffmpeg -threads 1 -f null` decoding
# the same frames as the CPU yardstick. Half blocks, truecolor, 80x24 and 200x60.
#   bench/view.sh [FRAMES]      (default 250; needs `make release`, timg, mpv, pyte)
set -euo pipefail
cd "$(dirname "$0")/.."
frames=${1:-250}
vigie=.build/release/vigie
work=${BENCH_DIR:-/tmp/vigie-bench}
mkdir -p "$work"
[ -x "$vigie" ] || { echo "build first: make release" >&2; exit 1; }

# Real-looking footage: a simulated street camera's main stream (1280x720, mostly still, grain).
video=$("$vigie" sim prepare --cameras plumereau-centre --stream main | awk '/^footage folder: / { sub(/^footage folder: /, ""); folder = $0 } $2 == "main" { print folder "/" $NF }')
echo "footage: $video ($frames frames)"

cpu() {  # output-file command... -> user+sys seconds
  local out=$1; shift
  /usr/bin/time -f "%U %S" -o "$work/time.txt" "$@" > "$out" 2>/dev/null
  awk '{ printf "%.3f", $1 + $2 }' "$work/time.txt"
}

decode=$(cpu /dev/null ffmpeg -hide_banner -nostdin -threads 1 -i "$video" -frames:v "$frames" -f null -)
printf "ffmpeg -threads 1 decode: %.3f ms per frame\n" "$(echo "$decode * 1000 / $frames" | bc -l)"
# vigie decodes pictures shown far smaller than the stream without deblocking; the same
# decode by ffmpeg is the fair yardstick for what vigie adds (vs_same_decode).
same=$(cpu /dev/null ffmpeg -hide_banner -nostdin -threads 1 -skip_loop_filter all -i "$video" -frames:v "$frames" -f null -)
printf "ffmpeg -threads 1 -skip_loop_filter all decode: %.3f ms per frame\n\n" "$(echo "$same * 1000 / $frames" | bc -l)"
printf "%-8s %-7s %12s %10s %12s %10s %15s\n" size program bytes/frame psnr_db cpu_ms/frame vs_decode vs_same_decode
for size in 80x24 200x60; do
  cols=${size%x*}; rows=${size#*x}
  for program in vigie timg mpv; do
    out="$work/$program-$size.vt"
    case $program in
      vigie) c=$(cpu "$out" "$vigie" view "$video" --size "$size" --graphics half --colors truecolor --untimed --frames "$frames") ;;
      timg) c=$(cpu "$out" timg -V -ph -g"$size" --frames="$frames" "$video") ;;
      mpv) c=$(cpu "$out" mpv --no-config --really-quiet --no-audio --untimed --vo=tct --vo-tct-algo=half-blocks \
                 --vo-tct-width="$cols" --vo-tct-height="$rows" --frames="$frames" "$video") ;;
    esac
    score=$(bench/vtscore.py "$out" "$cols" "$rows" "$video" "$frames")
    bpf=$(sed -n 's/.*bytes_per_frame=\([0-9.]*\).*/\1/p' <<< "$score")
    psnr=$(sed -n 's/.*psnr_db=\([0-9.]*\).*/\1/p' <<< "$score")
    printf "%-8s %-7s %12s %10s %12.3f %10.2f %15.2f\n" "$size" "$program" "$bpf" "$psnr" \
      "$(echo "$c * 1000 / $frames" | bc -l)" "$(echo "$c / $decode" | bc -l)" "$(echo "$c / $same" | bc -l)"
  done
done

# Sixel in a 640x480 area (the footage is 16:9, so both show 640x360): bytes per frame.
echo
printf "%-8s %-7s %12s %12s\n" area program bytes/frame cpu_ms/frame
out="$work/vigie-640x480.six"
c=$(cpu "$out" "$vigie" view "$video" --graphics sixel --size 64x24 --cell-size 10x20 --untimed --frames "$frames")
vb=$(( $(stat -c %s "$out") / frames ))
printf "%-8s %-7s %12d %12.3f\n" 640x480 vigie "$vb" "$(echo "$c * 1000 / $frames" | bc -l)"
out="$work/mpv-640x480.six"
c=$(cpu "$out" mpv --no-config --really-quiet --no-audio --untimed --vo=sixel --vo-sixel-width=640 --vo-sixel-height=480 \
      --frames="$frames" "$video")
mb=$(( $(stat -c %s "$out") / frames ))
printf "%-8s %-7s %12d %12.3f\n" 640x480 mpv "$mb" "$(echo "$c * 1000 / $frames" | bc -l)"
echo "sixel bytes ratio vigie/mpv: $(echo "$vb / $mb" | bc -l | cut -c1-6)"
