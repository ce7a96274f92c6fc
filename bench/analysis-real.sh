#!/usr/bin/env bash
# The analysis on real street footage from the registries: OpenCV's vtest.avi (Debian
# package opencv-doc: a street with pedestrians, 768x576, 10 fps, 79.5 s) and the two test
# videos of the PyPI sdist otanalytics 0.6.13 (GPL-3.0; a crossroads with cars, a truck
# and a cyclist, 800x600, 20 fps, 3 s each). vtest.avi is MS-MPEG4, which no camera sends
# and MPEG-TS cannot carry: it is re-encoded to H.264 (libx264, no B-frames, like a
# camera's stream); the otanalytics videos are H.264 and copied as they are. Each becomes a
# camera's recordings (`vigie bench import`), a requisition covers them, `vigie analyse`
# indexes them (speed and time per stage), and `vigie search` lists what it found;
# thumbnails are written as PNG beside, to look at.
#   bench/analysis-real.sh [VIGIE]   (default .build/release/vigie)
set -euo pipefail
cd "$(dirname "$0")/.."
vigie=${1:-$PWD/.build/release/vigie}
work=${BENCH_DIR:-/tmp/vigie-bench}/analysis-real
[ -x "$vigie" ] || { echo "build first: make release" >&2; exit 1; }
scripts/install-analysis
mkdir -p "$work/files"
cd "$work/files"
if [ ! -f vtest.mp4 ]; then
  apt-get download opencv-doc > /dev/null 2>&1 || (apt-get update > /dev/null && apt-get download opencv-doc > /dev/null)
  dpkg-deb --fsys-tarfile opencv-doc_*.deb | tar x --wildcards --strip-components=7 './usr/share/doc/opencv-doc/examples/data/vtest.avi'
  ffmpeg -loglevel error -y -i vtest.avi -c:v libx264 -preset medium -crf 20 -bf 0 -g 20 -pix_fmt yuv420p vtest.mp4
fi
if [ ! -f cars-cyclist.mp4 ]; then
  python3 -m pip download --quiet --no-deps --no-binary :all: otanalytics==0.6.13 -d .
  tar xzf otanalytics-0.6.13.tar.gz --wildcards '*/tests/data/*.mp4'
  cp otanalytics-0.6.13/tests/data/Testvideo_Cars-Cyclist_FR20_2020-01-01_00-00-00.mp4 cars-cyclist.mp4
  cp otanalytics-0.6.13/tests/data/Testvideo_Cars-Truck_FR20_2020-01-01_00-00-00.mp4 cars-truck.mp4
fi
cd - > /dev/null
site=$work/site.yaml
cat > "$site" <<YAML
site:
  name: Real footage
  timezone: Europe/Paris
  retention_days: 30
  mode: videoprotection
cameras:
  - {id: vtest, name: Pedestrians (OpenCV vtest), location: Street, main: "$work/files/vtest.mp4", neighbours: []}
  - {id: crossroads-1, name: Crossroads 1 (otanalytics), location: Crossroads, main: "$work/files/cars-cyclist.mp4", neighbours: [crossroads-2]}
  - {id: crossroads-2, name: Crossroads 2 (otanalytics), location: Crossroads, main: "$work/files/cars-truck.mp4", neighbours: [crossroads-1]}
YAML
store=$work/store
rm -rf "$store"
day=$(TZ=Europe/Paris date -d yesterday +%Y-%m-%d)
common=(--site "$site" --storage "$store")
"$vigie" bench import "${common[@]}" "$work/files/vtest.mp4" --camera vtest --at "$day 10:00:00"
"$vigie" bench import "${common[@]}" "$work/files/cars-cyclist.mp4" --camera crossroads-1 --at "$day 10:00:00"
"$vigie" bench import "${common[@]}" "$work/files/cars-truck.mp4" --camera crossroads-2 --at "$day 10:00:20"
"$vigie" requisition add "${common[@]}" --number REAL-1 --authority bench --basis 77-1-1 --cameras all --from "$day 09:59:00" --to "$day 10:02:00" > /dev/null 2>&1
"$vigie" analyse "${common[@]}" --requisition REAL-1 2> /dev/null
for class in person car van bicycle; do
  echo "== $class"
  "$vigie" search "${common[@]}" --requisition REAL-1 --class "$class" --limit 40 2>&1
done
mkdir -p "$work/thumbnails"
for id in $(sqlite3 "$store/catalog.sqlite" "SELECT passage_id FROM passage_thumbnails"); do
  sqlite3 "$store/catalog.sqlite" "SELECT writefile('$work/thumbnails/$id.ppm', image) FROM passage_thumbnails WHERE passage_id = $id" > /dev/null
  ffmpeg -loglevel error -y -i "$work/thumbnails/$id.ppm" -vf scale=iw*3:ih*3:flags=neighbor "$work/thumbnails/$id.png" && rm "$work/thumbnails/$id.ppm"
done
echo "thumbnails: $work/thumbnails"
