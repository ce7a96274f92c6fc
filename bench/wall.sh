#!/usr/bin/env bash
# `vigie wall` with 16 simulated cameras in 4x4 at 200x60 in a real terminal (tmux):
# pictures drawn per tile per second (the cameras send 25), bytes per second written to
# the terminal (pictures), and CPU, over S seconds.
#   bench/wall.sh [SECONDS] [MAX_RATE]      (default 60, no cap; needs `make release` and tmux)
# With MAX_RATE (bytes per second, e.g. 100k) the wall runs with --max-rate: a thin link.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
cap=${2:+--max-rate $2}
vigie=$PWD/.build/release/vigie
work=${BENCH_DIR:-/tmp/vigie-bench}
mkdir -p "$work"
[ -x "$vigie" ] || { echo "build first: make release" >&2; exit 1; }
. bench/bench-site.sh
bench_wall16 "$work/wall-16.yaml"
"$vigie" sim prepare --stream sub --cameras '*' >/dev/null
rm -f "$work/wall-stats.txt"
tmux kill-session -t vigie-bench 2>/dev/null || true
tmux new-session -d -s vigie-bench -x 200 -y 60 \
  "COLORTERM=truecolor $vigie wall --layout $work/wall-16.yaml --colors truecolor --statistics $work/wall-stats.txt $cap"
sleep "$seconds"
tmux send-keys -t vigie-bench q y
for _ in $(seq 50); do [ -s "$work/wall-stats.txt" ] && break; sleep 0.2; done
tmux kill-session -t vigie-bench 2>/dev/null || true
echo "vigie wall, 16 cameras 4x4, 200x60, half blocks truecolor, $seconds s${2:+, --max-rate $2}:"
cat "$work/wall-stats.txt"
