#!/usr/bin/env bash
# it_import.sh — gridplan import/export/history/undo against the real datasets in tests/data, with
# every expected number taken from GDAL's ogrinfo of the same files; each bad input is its own check.
set -u
G=${GRIDPLAN:?set GRIDPLAN to the gridplan binary}
data=$(cd "$(dirname "$0")/data" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GRIDPLAN_QUIET=
failed=0
ok() { echo "ok - $1"; }
fail() { echo "not ok - $1: $2"; failed=$((failed + 1)); }
check() { # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then ok "$1 ($3)"; else fail "$1" "expected '$2', got '$3'"; fi
}
ogr_count() { ogrinfo -so -al "$1" | sed -n 's/^Feature Count: //p'; }
ogr_value() { ogrinfo -q -dialect sqlite -sql "$2" "$1" 2>/dev/null | sed -n 's/^  [^ ]* ([A-Za-z]*) = //p' | head -1 | sed 's/\.0*$//'; }
db_value() { sqlite3 "$db" "$1"; }
# A digest of every feature table, geometry blobs included, plus meta: "unchanged" means equal.
db_digest() {
  for t in streets communities grids buildings facilities roads; do
    sqlite3 "$db" "SELECT * , hex(geom) FROM $t ORDER BY fid" 2>/dev/null
  done | { cat; sqlite3 "$db" "SELECT * FROM meta ORDER BY key"; } | sha256sum | cut -c1-16
}

db=$work/city.sqlite
lie=$data/osm_liechtenstein_2013
chi=$data/chicago_community_areas_pop/chicago_commpop.geojson

# ---- every command has --help ----
for c in import export history undo info; do
  if "$G" "$c" --help >"$work/help" 2>&1 && grep -q "^usage: gridplan $c" "$work/help"; then ok "gridplan $c --help"
  else fail "gridplan $c --help" "$(head -2 "$work/help")"; fi
done

# ---- Liechtenstein OSM buildings, households estimated from footprints (UTM 32N, 100 m2 each) ----
if "$G" import --db "$db" --create --layer buildings --estimate-households 100 "$lie/buildings.geojson" >"$work/out" 2>&1; then
  ok "import Liechtenstein buildings"
else fail "import Liechtenstein buildings" "$(tail -3 "$work/out")"; fi
check "buildings count = ogrinfo" "$(ogr_count "$lie/buildings.geojson")" "$(db_value 'SELECT count(*) FROM buildings')"
check "estimated households = ogrinfo sum(max(1, round(area_utm32 / 100)))" \
  "$(ogr_value "$lie/buildings.geojson" 'SELECT sum(max(1, round(ST_Area(ST_Transform(geometry, 32632)) / 100))) AS v FROM buildings')" \
  "$(db_value 'SELECT sum(households) FROM buildings')"
check "OSM @id kept as ext_id" "$(ogr_value "$lie/buildings.geojson" 'SELECT count(DISTINCT "@id") AS v FROM buildings')" \
  "$(db_value 'SELECT count(DISTINCT ext_id) FROM buildings')"

# ---- Liechtenstein facilities (points; OSM 'category' read as type) ----
if "$G" import --db "$db" --layer facilities "$lie/facilities_points.geojson" >"$work/out" 2>&1; then ok "import facilities"
else fail "import facilities" "$(tail -3 "$work/out")"; fi
check "facilities count = ogrinfo" "$(ogr_count "$lie/facilities_points.geojson")" "$(db_value 'SELECT count(*) FROM facilities')"
check "schools = ogrinfo" "$(ogr_value "$lie/facilities_points.geojson" "SELECT count(*) AS v FROM facilities_points WHERE category = 'amenity=school'")" \
  "$(db_value "SELECT count(*) FROM facilities WHERE type = 'amenity=school'")"

# ---- Chicago community areas: mapped fields, households from population, 4 invalid rings ----
before=$(db_digest)
if "$G" import --db "$db" --layer communities --map code=NID,name=community,population=POP2010 \
     --households-from-population 2.5 --reject-invalid "$chi" >"$work/out" 2>&1; then
  fail "--reject-invalid refuses Chicago's invalid polygons" "exit 0"
else
  invalid=$(( $(ogr_count "$chi") - $(ogr_value "$chi" 'SELECT sum(ST_IsValid(geometry)) AS v FROM chicago_commpop') ))
  check "--reject-invalid lists each invalid polygon" "$invalid" "$(grep -c 'invalid geometry' "$work/out")"
  check "--reject-invalid leaves the database unchanged" "$before" "$(db_digest)"
fi
if "$G" import --db "$db" --layer communities --map code=NID,name=community,population=POP2010 \
     --households-from-population 2.5 "$chi" >"$work/out" 2>&1; then ok "import Chicago community areas"
else fail "import Chicago community areas" "$(tail -3 "$work/out")"; fi
check "repairs reported one line each" "$invalid" "$(grep -c 'note: repaired invalid geometry' "$work/out")"
check "communities count = ogrinfo" "$(ogr_count "$chi")" "$(db_value 'SELECT count(*) FROM communities')"
check "population = ogrinfo SUM(POP2010)" "$(ogr_value "$chi" 'SELECT SUM(POP2010) AS v FROM chicago_commpop')" \
  "$(db_value 'SELECT sum(population) FROM communities')"
check "households = ogrinfo SUM(round(POP2010 / 2.5))" "$(ogr_value "$chi" 'SELECT sum(round(POP2010 / 2.5)) AS v FROM chicago_commpop')" \
  "$(db_value 'SELECT sum(households) FROM communities')"
check "every stored geometry valid (SpatiaLite ST_IsValid)" "77" \
  "$(sqlite3 -cmd '.load mod_spatialite' "$db" 'SELECT sum(ST_IsValid(geom)) FROM communities')"
if "$G" info --db "$db" --json | grep -q '"communities":77,"grids":0,"buildings":3724,"facilities":64'; then ok "info counts"
else fail "info counts" "$("$G" info --db "$db" --json)"; fi

# ---- export back, read by GDAL ----
"$G" export --db "$db" --layer communities --out "$work/communities.geojson" 2>/dev/null
check "exported communities: ogrinfo count" "77" "$(ogr_count "$work/communities.geojson")"
check "exported population: ogrinfo sum" "$(db_value 'SELECT sum(population) FROM communities')" \
  "$(ogr_value "$work/communities.geojson" 'SELECT sum(population) AS v FROM communities')"
ogr2ogr -f CSV /vsistdout/ "$work/communities.geojson" -lco SEPARATOR=TAB -lco STRING_QUOTING=IF_NEEDED \
  -sql 'SELECT fid, code, name, street_code, households, population, locked FROM communities ORDER BY fid' >"$work/a.csv" 2>/dev/null
# Tab-separated on both sides (no names contain tabs), so neither tool quotes; empty strings look like
# nulls there, so the next check shows GDAL reads them as '' (not null).
sqlite3 -header -separator "$(printf '\t')" "$db" \
  'SELECT fid, code, name, street_code, households, population, locked FROM communities ORDER BY fid' >"$work/b.csv"
check "empty street_code read by GDAL as '' not null" "77" \
  "$(ogr_value "$work/communities.geojson" "SELECT count(*) AS v FROM communities WHERE street_code = ''")"
check "ogr2ogr read 77 exported rows" "78" "$(wc -l <"$work/a.csv" | tr -d ' ')"
if diff <(tr -d "\r" <"$work/a.csv") <(tr -d "\r" <"$work/b.csv") >/dev/null; then ok "exported attributes identical (ogr2ogr vs database, 77 rows)"
else fail "exported attributes identical" "$(diff <(tr -d "\r" <"$work/a.csv") <(tr -d "\r" <"$work/b.csv") | head -3)"; fi
"$G" export --db "$db" --layer buildings --out "$work/buildings.geojson" 2>/dev/null
check "exported buildings: ogrinfo count" "3724" "$(ogr_count "$work/buildings.geojson")"
check "exported buildings: households sum" "$(db_value 'SELECT sum(households) FROM buildings')" \
  "$(ogr_value "$work/buildings.geojson" 'SELECT sum(households) AS v FROM buildings')"
"$G" export --db "$db" --layer facilities --format csv --out "$work/facilities.csv" 2>/dev/null
check "CSV starts with a UTF-8 BOM" "efbbbf" "$(head -c3 "$work/facilities.csv" | od -An -tx1 | tr -d ' \n')"
check "CSV rows = features + header" "65" "$(wc -l <"$work/facilities.csv" | tr -d ' ')"

# ---- history and undo through the CLI (a changeset written the way the triggers see any writer) ----
if "$G" undo --db "$db" >"$work/out" 2>&1; then fail "undo with nothing to undo" "exit 0"
else check "undo with nothing to undo says so" "1" "$(grep -c 'nothing to undo' "$work/out")"; fi
sqlite3 "$db" "BEGIN; INSERT INTO changesets(user, op) VALUES ('it', 'edit');
  INSERT INTO changeset_active(id, changeset) VALUES (1, last_insert_rowid());
  UPDATE communities SET households = 1 WHERE code = '35'; DELETE FROM changeset_active; COMMIT;"
check "history lists the changeset" "1" "$("$G" history --db "$db" | grep -c ' it .*edit .* 1  in force')"
"$G" undo --db "$db" >"$work/out" 2>&1
check "undo restores households" "$(ogr_value "$chi" 'SELECT round(POP2010 / 2.5) AS v FROM chicago_commpop WHERE NID = 35')" \
  "$(db_value "SELECT households FROM communities WHERE code = '35'")"
check "history --json marks it undone" "1" "$("$G" history --db "$db" --json | grep -c '"id":1,.*"undone_by":2')"

# ---- bad input: one line naming file (and feature), exit 1, database unchanged ----
good='{"type":"Feature","properties":{"code":"G1","households":1},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}'
bad() { # bad NAME EXPECTED-TEXT FILE-CONTENT [extra import flags...]
  local name=$1 want=$2 content=$3; shift 3
  local f=$work/$name
  [ "$content" = "-" ] || printf '%s' "$content" >"$f"
  local before; before=$(db_digest)
  if "$G" import --db "$db" --layer communities "$@" "$f" >"$work/out" 2>&1; then fail "bad input $name" "exit 0"; return; fi
  if ! grep -q -- "$want" "$work/out"; then fail "bad input $name" "no '$want' in: $(head -3 "$work/out")"; return; fi
  if ! grep -- "$want" "$work/out" | grep -q "$name"; then fail "bad input $name" "message does not name the file"; return; fi
  if [ "$(db_digest)" != "$before" ]; then fail "bad input $name" "database changed"; return; fi
  ok "bad input $name: $(grep -m1 -- "$want" "$work/out" | sed "s|$work/||")"
}
bad malformed.geojson "line 1, column" '{"type":"FeatureCollection","features":[{"type" "Feature"}]}'
bad truncated.geojson "premature end of input" "{\"type\":\"FeatureCollection\",\"features\":[$good,
{\"type\":\"Feature\",\"prop"
bad empty.geojson "empty FeatureCollection" '{"type":"FeatureCollection","features":[]}'
bad wrongtype.geojson "feature 2 (id 'L1'): communities needs Polygon or MultiPolygon, got LineString" \
  "{\"type\":\"FeatureCollection\",\"features\":[$good,{\"type\":\"Feature\",\"properties\":{\"code\":\"L1\",\"households\":2},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[0,0],[1,1]]}}]}"
bad missing-households.geojson "feature 2 (id 'M1'): households is missing" \
  "{\"type\":\"FeatureCollection\",\"features\":[$good,{\"type\":\"Feature\",\"properties\":{\"code\":\"M1\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}}]}"
bad negative-households.geojson "feature 2 (id 'N1'): households is negative (-3)" \
  "{\"type\":\"FeatureCollection\",\"features\":[$good,{\"type\":\"Feature\",\"properties\":{\"code\":\"N1\",\"households\":-3},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}}]}"
bad nonnumeric-households.geojson "feature 2 (id 'T1'): households is not a number ('many')" \
  "{\"type\":\"FeatureCollection\",\"features\":[$good,{\"type\":\"Feature\",\"properties\":{\"code\":\"T1\",\"households\":\"many\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}}]}"
bad unknown-crs.geojson "unknown CRS 'EPSG:99999'" \
  "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::99999\"}},\"features\":[$good]}"
bad self-intersecting.geojson "feature 1 (id 'S1'): invalid geometry: Self-intersection at 1 1" \
  '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"S1","households":3},"geometry":{"type":"Polygon","coordinates":[[[0,0],[2,2],[2,0],[0,2],[0,0]]]}}]}' --reject-invalid
bad duplicate-id.geojson "feature 2 (id 'G1'): duplicate code 'G1' (also feature 1)" \
  "{\"type\":\"FeatureCollection\",\"features\":[$good,$good]}"
bad existing-code.geojson "feature 1 (id '35'): code '35' is already in the database" \
  '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"35","households":3},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}'
bad does-not-exist.geojson "does-not-exist.geojson: no such file" -

[ $failed -eq 0 ]
