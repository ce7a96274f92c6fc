#!/usr/bin/env bash
# Seek latency of `vigie play --at` in a 30-day catalog of 110 cameras (4.75 million
# one-minute segments, built synthetically): time from the seek's start to the first frame
# written, at random cameras and times (random offsets inside segments, so decoding from
# the keyframe before the time to the exact frame is included).
# The same seeks through the recorder's server (`vigie bench serve` on the store: the
# recorder's API without recording): `vigie play --server` on its Unix socket and over TLS
# on loopback, the packets sent by the server and decoded by the client.
# Side by side: `ffmpeg -ss OFFSET -i SEGMENT -frames:v 1 -f null -` on the same segment
# (given the file directly, no catalog), whole-process wall time like vigie's.
#   bench/seek.sh [SEEKS] [CAMERAS] [DAYS]     (default 30 110 30; needs `make release` first)
set -euo pipefail
cd "$(dirname "$0")/.."
seeks=${1:-30}
cameras=${2:-110}
days=${3:-30}
vigie=$PWD/.build/release/vigie
work=${BENCH_DIR:-/tmp/vigie-bench}/seek
mkdir -p "$work"
[ -x "$vigie" ] || { echo "build first: make release" >&2; exit 1; }
. bench/bench-site.sh
site=$work/site.yaml
bench_site "$site" "$cameras"
store=$work/store-$cameras-$days

# A real one-minute segment of a simulated 720p main stream: the template of every row.
template=$work/template.ts
bench_template "$template" "$site" "$work/recording"
if [ ! -f "$store/catalog.sqlite" ]; then
  rm -rf "$store"
  "$vigie" bench catalog --site "$site" --storage "$store" --days "$days" --template "$template"
fi
echo "catalog: $(sqlite3 "$store/catalog.sqlite" "SELECT COUNT(*) FROM segments") segments, $(du -h "$store/catalog.sqlite" | cut -f1)"

# The server, and an account to log in over TLS (the store's first: it maps this Unix user).
if ! "$vigie" accounts show bench --site "$site" --storage "$store" > /dev/null 2>&1; then
  echo "bench password 1" | "$vigie" accounts add bench --role supervisor --unix-user "$(id -un)" --site "$site" --storage "$store" > /dev/null
fi
"$vigie" bench serve --site "$site" --storage "$store" --listen 127.0.0.1:0 --log-level error 2> "$work/serve.log" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null' EXIT
for _ in $(seq 100); do grep -q "over TLS 1.3" "$work/serve.log" && break; sleep 0.1; done
address=$(grep "over TLS 1.3" "$work/serve.log" | grep -o '127.0.0.1:[0-9]*' | head -n 1)
fingerprint=$(grep "over TLS 1.3" "$work/serve.log" | grep -o 'SHA256:[0-9a-f]*' | head -n 1)
socket=$store/recorder.sock
export XDG_CONFIG_HOME=$work/config
echo "bench password 1" | "$vigie" login --server "$address" --user bench --fingerprint "$fingerprint" > /dev/null

ids=($(awk '/- id:/ { print $3 }' "$site"))
range=$(sqlite3 "$store/catalog.sqlite" "SELECT MIN(start_us) / 1000000, MAX(start_us) / 1000000 FROM segments")
first=${range%|*}; last=${range#*|}
: > "$work/vigie.txt"; : > "$work/vigie-process.txt"; : > "$work/ffmpeg.txt"; : > "$work/breakdown.txt"
: > "$work/socket.txt"; : > "$work/socket-process.txt"; : > "$work/tls.txt"; : > "$work/tls-process.txt"
for ((n = 0; n < seeks; n++)); do
  camera=${ids[$((RANDOM % ${#ids[@]}))]}
  target=$((first + (RANDOM * 32768 + RANDOM) % (last - first)))
  fraction=$((RANDOM % 1000))
  path=$(sqlite3 "$store/catalog.sqlite" \
    "SELECT path FROM segments WHERE camera = '$camera' AND start_us <= ${target}000000 ORDER BY start_us DESC LIMIT 1")
  start=$(sqlite3 "$store/catalog.sqlite" "SELECT start_us / 1000000 FROM segments WHERE path = '$path'")
  mkdir -p "$(dirname "$store/$path")"
  ln -f "$template" "$store/$path"
  at="$(date -u -d "@$target" '+%Y-%m-%d %H:%M:%S').$(printf %03d $fraction)Z"
  t0=$(date +%s%N)
  "$vigie" play "$camera" --at "$at" --site "$site" --storage "$store" --frames 1 --size 80x24 --reason bench 2> "$work/play.err" > /dev/null
  t1=$(date +%s%N)
  sed -n 's/.* shown \([0-9.]*\) ms after the seek began.*/\1/p' "$work/play.err" >> "$work/vigie.txt"
  sed -n 's/.* shown \([0-9.]*\) ms after the seek began (\(.*\))$/\1 ms: \2/p' "$work/play.err" >> "$work/breakdown.txt"
  echo "$(( (t1 - t0) / 1000 ))" >> "$work/vigie-process.txt"
  for via in socket tls; do
    if [ $via = socket ]; then server=$socket; else server=$address; fi
    t0=$(date +%s%N)
    "$vigie" play "$camera" --at "$at" --server "$server" --frames 1 --size 80x24 --reason bench 2> "$work/play.err" > /dev/null
    t1=$(date +%s%N)
    sed -n 's/.* shown \([0-9.]*\) ms after the seek began.*/\1/p' "$work/play.err" >> "$work/$via.txt"
    echo "$(( (t1 - t0) / 1000 ))" >> "$work/$via-process.txt"
  done
  offset="$((target - start)).$(printf %03d $fraction)"
  t0=$(date +%s%N)
  ffmpeg -hide_banner -nostdin -loglevel error -ss "$offset" -i "$store/$path" -frames:v 1 -f null - 
  t1=$(date +%s%N)
  echo "$(( (t1 - t0) / 1000 ))" >> "$work/ffmpeg.txt"
  rm -f "$store/$path"
done
stats() { sort -n "$1" | awk -v scale="$2" '{ v[NR] = $1 / scale } END { printf "median %.1f ms, p95 %.1f ms, max %.1f ms", v[int((NR + 1) / 2)], v[int(NR * 0.95 + 0.5)], v[NR] }'; }
echo "vigie play --at, seek to first frame shown (in process): $(stats "$work/vigie.txt" 1)"
echo "slowest seeks, where the time went:"
sort -n -r "$work/breakdown.txt" | head -n 3 | sed 's/^/  /'
echo "vigie play --at, whole process: $(stats "$work/vigie-process.txt" 1000)"
echo "vigie play --at --server SOCKET, seek to first frame shown: $(stats "$work/socket.txt" 1); whole process: $(stats "$work/socket-process.txt" 1000)"
echo "vigie play --at --server 127.0.0.1 (TLS), seek to first frame shown: $(stats "$work/tls.txt" 1); whole process: $(stats "$work/tls-process.txt" 1000)"
echo "ffmpeg -ss -i SEGMENT -frames:v 1, whole process: $(stats "$work/ffmpeg.txt" 1000)"
paste "$work/vigie-process.txt" "$work/ffmpeg.txt" | sort -n | awk '{ v += $1; f += $2 } END { printf "ratio of whole-process means vigie/ffmpeg %.3f\n", v / f }'
