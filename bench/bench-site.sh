# Sourced by the benchmarks. bench_site FILE CAMERAS writes a site of CAMERAS simulated
# cameras replaying, in turn, the footage of the shipped site's first 16 cameras (16
# footages to build once, not one per camera), and builds that footage.
# Sets $source_ids (the 16 ids) and $footage (each one's main-stream footage file, by id).
bench_site() {
  local site=$1 cameras=$2 sources i src id
  sources=$("$vigie" cameras list | awk 'NR > 2 { print $2 }' | head -n 16)
  read -r -a source_ids <<< "$(echo $sources)"
  {
    printf 'site:\n  name: Bench\n  timezone: Europe/Paris\n  retention_days: 30\ncameras:\n'
    for ((i = 0; i < cameras; i++)); do
      src=${source_ids[$((i % 16))]}
      if ((i < 16)); then id=$src; else id=$(printf 'bench-%03d' "$i"); fi
      printf '  - id: %s\n    name: %s\n    location: Bench\n    main: sim://%s/main\n' "$id" "$id" "$src"
    done
  } > "$site"
  declare -gA footage
  for src in $sources; do
    footage[$src]=$("$vigie" sim prepare --site "$site" --cameras "$src" --stream main |
      awk '/^footage folder: / { sub(/^footage folder: /, ""); folder = $0 } $2 == "main" { print folder "/" $NF }')
  done
}

# bench_wall16 FILE writes a wall of the shipped site's 16 first cameras in one 4x4 page
# that never zaps (the wall and consoles benchmarks).
bench_wall16() {
  cat > "$1" <<YAML
wall:
  name: Banc 16
  cameras: $PWD/Layouts/tours.yaml
  grid: 4x4
  dwell: 3600
pages:
  - name: Seize
    cameras: [plumereau-*, rue-du-grand-marche, place-grand-marche, rue-du-change, place-chateauneuf, briconnet, commerce-*, halles-pailhou, place-des-halles, rue-des-halles-*, nationale-nord, nationale-commerce]
YAML
}

# bench_template FILE SITE FOLDER records the site's first source camera for a while into
# FOLDER and keeps its longest segment (one minute of a 720p main stream) as FILE, once.
bench_template() {
  local template=$1 site=$2 folder=$3 best
  [ -f "$template" ] && return 0
  rm -rf "$folder"
  "$vigie" record --site "$site" --cameras "${source_ids[0]}" --storage "$folder" --duration 130 --log-level error 2>/dev/null
  best=$(sqlite3 "$folder/catalog.sqlite" "SELECT path FROM segments ORDER BY end_us - start_us DESC LIMIT 1")
  cp "$folder/$best" "$template"
}
