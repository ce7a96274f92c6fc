#!/usr/bin/env bash
# The recorder relaying live streams to its consoles, on loopback (its Unix socket):
# - the delay the relay adds between a packet's arrival at the recorder and at a console,
#   CONSOLES x TILES streams: p50, p95, max (goal: p95 under 20 ms);
# - the recorder's CPU with those consoles against the same recorder with none (goal:
#   relaying costs at most half of what recording costs).
# The recorder records TILES simulated cameras, their main streams (1280x720 at 2 Mbit/s) and,
# as the site default says, their sub streams (640x360) beside them; the consoles ask for the
# sub streams, as wall tiles do, relayed from the recorder's own connections; the client only
# receives. RECORD_SUB=false records the main streams only: the relay then opens the sub streams.
# Recording alone is measured before and after the consoles (their mean is the reference; the
# two say how noisy the machine was). VIGIE=path runs another build of vigie (a comparison).
#   bench/relay.sh [CONSOLES] [TILES] [SECONDS]     (default 4 16 30; needs `make release` first)
set -euo pipefail
cd "$(dirname "$0")/.."
consoles=${1:-4}
tiles=${2:-16}
seconds=${3:-30}
vigie=${VIGIE:-$PWD/.build/release/vigie}
work=${BENCH_DIR:-/tmp/vigie-bench}/relay
[ -x "$vigie" ] || { echo "build first: make release" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work"
site=$work/site.yaml
ids=$("$vigie" cameras list | awk 'NR > 2 { print $2 }' | head -n "$tiles")
{
  printf 'site:\n  name: Bench\n  timezone: Europe/Paris\n  record_sub_streams: %s\ncameras:\n' "${RECORD_SUB:-true}"
  for id in $ids; do printf '  - id: %s\n    name: %s\n    location: Bench\n    main: sim://%s/main\n    sub: sim://%s/sub\n' "$id" "$id" "$id" "$id"; done
} > "$site"
"$vigie" sim prepare --site "$site" --stream main > /dev/null
"$vigie" sim prepare --site "$site" --stream sub > /dev/null
"$vigie" record --site "$site" --storage "$work/storage" --duration $((seconds * 3 + 120)) 2> "$work/record.log" &
recorder=$!
# Waited for: a recorder still stopping would remove the next run's socket.
trap 'kill $recorder 2> /dev/null || true; wait $recorder 2> /dev/null || true' EXIT
until [ -S "$work/storage/recorder.sock" ]; do sleep 0.2; done
sleep 10 # every camera connected and recording
ticks() { awk '{ print $14 + $15 }' "/proc/$recorder/stat"; }
hz=$(getconf CLK_TCK)
a=$(ticks); sleep "$seconds"; b=$(ticks)
before=$(echo "scale=1; ($b - $a) * 100 / $hz / $seconds" | bc)
"$vigie" bench relay --server "$work/storage/recorder.sock" --consoles "$consoles" --tiles "$tiles" --seconds "$seconds" \
  > "$work/relay.txt" 2> "$work/relay.log" &
client=$!
until grep -q measuring "$work/relay.log" 2> /dev/null; do
  kill -0 $client 2> /dev/null || { echo "vigie bench relay failed:" >&2; cat "$work/relay.log" >&2; exit 1; }
  sleep 0.1
done
c=$(ticks); sleep "$seconds"; d=$(ticks)
wait $client
served=$(echo "scale=1; ($d - $c) * 100 / $hz / $seconds" | bc)
sleep 3 # the consoles' connections closed
e=$(ticks); sleep "$seconds"; f=$(ticks)
after=$(echo "scale=1; ($f - $e) * 100 / $hz / $seconds" | bc)
alone=$(echo "scale=1; ($before + $after) / 2" | bc)
extra=$(echo "scale=1; $served - $alone" | bc)
ratio=$(echo "scale=2; $extra / $alone" | bc)
cat "$work/relay.txt"
echo "recorder CPU (sub streams recorded: ${RECORD_SUB:-true}): recording $tiles cameras alone $alone% (before $before%, after $after%), with $consoles consoles x $tiles tiles $served% (relaying +$extra%, $ratio of recording)"
