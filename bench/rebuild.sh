#!/usr/bin/env bash
# Rebuilding a lost catalog from its footage files, as `vigie record` does when it finds its
# catalog damaged and no backup: time until recording starts, until every file is indexed
# (the catalog is whole again: retention and playback), and until every file is hashed and
# its keyframes indexed (background), with the page cache dropped first (needs root).
#
#   bench/rebuild.sh [CAMERAS] [MINUTES] [KIND]     (default 110 1440 small; needs `make release`)
#   e.g. bench/rebuild.sh 10 30 real: 300 files of 16 MB (4.8 GB); a day of 110 cameras of real
#   footage is 2.4 TB: mind the disk.
#
# KIND small: every minute of every camera is a copy of one real one-minute MPEG-TS segment
#   made by ffmpeg at 2 fps and a low bit rate (76 KB, so that a day of 110 cameras, 158,400
#   files, fits on this machine's disk). The index step reads a file's head and tail only
#   (about 90 KB), so this measures it as for full-size files; the hashing step's throughput
#   is measured with KIND real.
# KIND real: copies of a real one-minute 720p segment of the simulated city (about 16 MB):
#   the hashing step's throughput on footage of a real size (use fewer cameras and minutes).
# The cameras of the site point at a closed port: the recorder keeps trying, records nothing,
# and the measure is the rebuild's alone. Files go to $BENCH_DIR (default /tmp/vigie-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
cameras=${1:-110}
minutes=${2:-1440}
kind=${3:-small}
vigie=$PWD/.build/release/vigie
work=${BENCH_DIR:-/tmp/vigie-bench}/rebuild
[ -x "$vigie" ] || { echo "build first: make release" >&2; exit 1; }
mkdir -p "$work"
store=$work/store-$kind-$cameras-$minutes
site=$work/site-$cameras.yaml

{
  printf 'site:\n  name: Rebuild bench\n  timezone: Europe/Paris\n  retention_days: 30\ncameras:\n'
  for ((i = 0; i < cameras; i++)); do
    printf '  - id: cam-%03d\n    name: Camera %d\n    location: Bench\n    main: rtsp://127.0.0.1:9/cam\n' "$i" "$i"
  done
} > "$site"

template=$work/template-$kind.ts
if [ ! -f "$template" ]; then
  if [ "$kind" = small ]; then
    ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=96x54:rate=2 -t 60 -c:v libx264 -preset ultrafast \
      -crf 45 -g 4 -keyint_min 4 -sc_threshold 0 -bf 0 -pat_period 2 -sdt_period 2 -f mpegts "$template"
  else
    # A minute of a simulated 720p street camera, recorded by vigie itself.
    printf 'site:\n  name: Template\n  timezone: Europe/Paris\ncameras:\n  - id: plumereau-nord\n    name: T\n    location: T\n    main: sim://plumereau-nord/main\n' > "$work/template-site.yaml"
    rm -rf "$work/template-recording"
    "$vigie" record --site "$work/template-site.yaml" --storage "$work/template-recording" --duration 130 --log-level error 2>/dev/null
    best=$(sqlite3 "$work/template-recording/catalog.sqlite" "SELECT path FROM segments ORDER BY end_us - start_us DESC LIMIT 1")
    cp "$work/template-recording/$best" "$template"
  fi
fi

if [ ! -f "$store/.complete" ]; then
  rm -rf "$store"
  free=$(df --output=avail -B1 "$work" | tail -n 1)
  need=$(( cameras * minutes * $(stat -c %s "$template") ))
  if [ "$need" -gt $(( free - 2000000000 )) ]; then echo "needs $((need / 1000000)) MB, $((free / 1000000)) MB free: fewer cameras or minutes" >&2; exit 1; fi
  echo "writing $((cameras * minutes)) copies of $(du -h "$template" | cut -f1) $template into $store"
  python3 - "$template" "$store" "$cameras" "$minutes" <<'EOF'
import os, sys, time
template, store, cameras, minutes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
data = open(template, "rb").read()
start = (int(time.time()) // 86400 - 1) * 86400  # yesterday 00:00 UTC: a whole day in the past
for camera in range(cameras):
    for minute in range(minutes):
        t = time.gmtime(start + minute * 60)
        folder = os.path.join(store, "cam-%03d" % camera, time.strftime("%Y-%m-%d", t))
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, time.strftime("%H%M%S", t) + ".ts"), "wb") as f:
            f.write(data)
EOF
  touch "$store/.complete"
fi
files=$(find "$store" -name '*.ts' | wc -l)
bytes=$(du -sb "$store" | cut -f1)
echo "footage: $files files, $((bytes / 1000000)) MB"

# The catalog is lost: random bytes where it was, no backup.
rm -rf "$store/damaged" "$store/quarantine" "$store"/catalog.* "$store"/recorder.* "$store"/audit.head "$store"/metrics.prom
head -c 1048576 /dev/urandom > "$store/catalog.sqlite"
sync
if [ -w /proc/sys/vm/drop_caches ] && echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then cache="cold page cache"; else cache="page cache NOT dropped (not root)"; fi

log=$work/record-$kind-$cameras-$minutes.log
started=$(date +%s.%N)
"$vigie" record --site "$site" --storage "$store" --retention-every 0 --backup-every 0 --log-level notice 2> "$log" &
pid=$!
# Until every file is hashed (the status says no more indexing), or 2 hours.
for ((i = 0; i < 7200; i++)); do
  sleep 1
  if grep -q "file(s) hashed" "$log"; then break; fi
  kill -0 "$pid" 2>/dev/null || break
done
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" || true
ended=$(date +%s.%N)

echo "rebuild of $files files ($cache):"
grep -E "vigie record: recording|footage file\(s\) indexed|file\(s\) hashed" "$log" | sed -E 's/^.*(catalog rebuild|vigie record): //' | cut -c1-220
rows=$(sqlite3 "$store/catalog.sqlite" "SELECT COUNT(*) FROM segments")
hashed=$(sqlite3 "$store/catalog.sqlite" "SELECT COUNT(*) FROM segments WHERE sha256 IS NOT NULL")
gaps=$(sqlite3 "$store/catalog.sqlite" "SELECT COUNT(*) FROM gaps")
echo "catalog: $rows segments ($hashed hashed), $gaps gaps; whole run $(echo "$ended - $started" | bc) s"
