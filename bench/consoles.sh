#!/usr/bin/env bash
# Consoles of one recorder on this machine. One `vigie record` records the 60 simulated
# Tours cameras (main streams); N consoles (each 16 tiles, 4x4, 200x60 in tmux, half
# blocks truecolor) are its clients on its socket, their live pictures relayed by it.
#  1. For N in COUNTS: pictures drawn per tile per second (the cameras send 25) and CPU of
#     each console, and the recorder's CPU, against the recorder with no console.
#  2. Zap: one console pages (key n) every 3 s through the 60 cameras (4 pages of 16):
#     from the turn of the console's loop that read the key to every tile of the new page
#     showing a picture; p50, p95, max. Side by side: the same wall embedded (no recorder,
#     it opens the cameras itself).
#   bench/consoles.sh [SECONDS] [COUNTS] [ZAPS]   (default 60 "1 2 4" 20; needs `make release` and tmux)
#   ZAP_ONLY=1 bench/consoles.sh                   (the zap alone; SKIP_ZAP=1: no zap)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
counts=${2:-1 2 4}
zaps=${3:-20}
vigie=$PWD/.build/release/vigie
work=${BENCH_DIR:-/tmp/vigie-bench}/consoles
[ -x "$vigie" ] || { echo "build first: make release" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"
storage=$work/storage
socket=$storage/recorder.sock
. bench/bench-site.sh
bench_wall16 "$work/wall-16.yaml"
cat > "$work/zap.yaml" <<YAML
wall:
  name: Zap
  cameras: $PWD/Layouts/tours.yaml
  grid: 4x4
  dwell: 3600
YAML
"$vigie" sim prepare >/dev/null

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
cpu_percent() { echo "$1 $2 $3" | awk -v hz="$hz" '{ printf "%.1f", ($2 - $1) / hz / $3 * 100 }'; }
# The whole machine: busy and total jiffies from /proc/stat.
machine() { awk '/^cpu / { idle = $5 + $6; total = 0; for (f = 2; f <= NF; f++) total += $f; print total - idle, total }' /proc/stat; }

"$vigie" record --storage "$storage" --storage-quota 3G --log-level warning 2> "$work/record.log" &
recorder=$!
trap 'kill $recorder 2>/dev/null || true; tmux kill-session -t bench-keeper 2>/dev/null || true' EXIT
# One session lives through the whole run: tmux's server never exits between the others.
tmux new-session -d -s bench-keeper "sleep 100000"
for _ in $(seq 300); do [ -S "$socket" ] && break; sleep 0.1; done
sleep 10  # every camera recording

if [ -z "${ZAP_ONLY:-}" ]; then
  t0=$(ticks $recorder); sleep "$seconds"; t1=$(ticks $recorder)
  idle=$(cpu_percent "$t0" "$t1" "$seconds")
  echo "recorder alone (60 cameras recorded, no console): CPU $idle% of one core"
fi

[ -n "${ZAP_ONLY:-}" ] && counts=""  # ZAP_ONLY=1: the zap measures alone
for n in $counts; do
  for ((i = 1; i <= n; i++)); do
    tmux new-session -d -s "console-$i" -x 200 -y 60 \
      "COLORTERM=truecolor VIGIE_STATE=$work/state-$i $vigie wall --server $socket --layout $work/wall-16.yaml --colors truecolor --statistics $work/stats-$n-$i.txt"
  done
  sleep 5
  tmux_pid=$(tmux display-message -p '#{pid}')
  t0=$(ticks $recorder); x0=$(ticks "$tmux_pid"); m0=$(machine)
  sleep "$seconds"
  t1=$(ticks $recorder); x1=$(ticks "$tmux_pid"); m1=$(machine)
  for ((i = 1; i <= n; i++)); do tmux send-keys -t "console-$i" q y; done
  for ((i = 1; i <= n; i++)); do
    for _ in $(seq 300); do [ -s "$work/stats-$n-$i.txt" ] && break; sleep 0.1; done
    tmux kill-session -t "console-$i" 2>/dev/null || true
  done
  echo "$n console(s) of 16 tiles: recorder CPU $(cpu_percent "$t0" "$t1" "$seconds")% (alone $idle%), tmux (the terminals) $(cpu_percent "$x0" "$x1" "$seconds")%, the machine's 2 cores $(echo "$m0 $m1" | awk '{ printf "%.0f", ($3 - $1) / ($4 - $2) * 100 }')% busy"
  for ((i = 1; i <= n; i++)); do
    [ -s "$work/stats-$n-$i.txt" ] || { echo "  console $i: no statistics written (see $work/state-$i/console.log)"; continue; }
    awk -v i="$i" '/frames_per_tile_per_s/ {
      for (f = 1; f <= NF; f++) { split($f, kv, "="); v[kv[1]] = kv[2] }
      printf "  console %d: %.1f pictures per tile per second, CPU %.1f%% of one core, %.0f KB/s to its terminal\n", i, v["frames_per_tile_per_s"], v["cpu_s"] / v["seconds"] * 100, v["bytes_per_s"] / 1000 }' "$work/stats-$n-$i.txt"
  done
done

zap() {  # zap SLUG LABEL COMMAND...
  local slug=$1 label=$2; shift 2
  tmux new-session -d -s zap -x 200 -y 60 "COLORTERM=truecolor VIGIE_STATE=$work/state-zap $* --layout $work/zap.yaml --colors truecolor --statistics $work/zap-$slug.txt"
  sleep 8
  for ((z = 0; z <= zaps; z++)); do tmux send-keys -t zap n; sleep 3; done
  tmux send-keys -t zap q y
  for _ in $(seq 300); do [ -s "$work/zap-$slug.txt" ] && break; sleep 0.1; done
  tmux kill-session -t zap 2>/dev/null || true
  echo "zap, $label: $(grep -h '^zaps=' "$work/zap-$slug.txt" || echo 'no zap measured'), $(grep -h '^zaps_incomplete' "$work/zap-$slug.txt" || true)"
  # The first three zaps show pages 2 to 4 for the first time (their streams opened then);
  # the others come back to pages seen in the last minute.
  local all
  all=$(grep -h '^zap_ms=' "$work/zap-$slug.txt" | cut -d= -f2 | tr , '\n')
  echo "  first visits of a page: $(echo "$all" | head -n 3 | paste -sd, -) ms; pages seen before: $(echo "$all" | tail -n +4 | sort -n |
    awk '{ v[NR] = $1 } END { printf "%d zaps, p50 %d ms, p95 %d ms, max %d ms", NR, v[int((NR + 1) / 2)], v[int(NR * 0.95 + 0.5)], v[NR] }')"
  return 0
}
[ -n "${SKIP_ZAP:-}" ] && exit 0
zap remote "through the recorder (its socket)" "$vigie" wall --server "$socket"
kill $recorder; wait $recorder 2>/dev/null || true
zap embedded "embedded (no recorder: the console opens the cameras)" "$vigie" wall
