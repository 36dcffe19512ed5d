#!/usr/bin/env bash
# it_circles.sh — `gridplan circles`, `coverage` and `gaps` on real OSM data (Helsinki, Liechtenstein),
# with GDAL reading the GeoJSON back. Prints "ok - ..." / "not ok - ...".
set -u
GRIDPLAN=${GRIDPLAN:-build/gridplan}
H=tests/data/osm_helsinki_center
L=tests/data/osm_liechtenstein_2013
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok - $1"; }
notok() { echo "not ok - $1: $2"; fails=$((fails + 1)); }
export GRIDPLAN_QUIET=1
# The circle rules of these checks, written out (GB 50180-2018 numbers), so they do not move with
# the shipped profiles.
cat >"$tmp/circles.json" <<'JSON'
{"name": "circles-it", "network_buffer_m": {"value": 50, "source": "test"}, "circles": {
 "life_15min": {"label": "15分钟生活圈", "facility_types": ["community_service", "supermarket", "pharmacy"], "match": "any",
   "radius_m": {"value": 1000, "source": "GB 50180-2018"}, "minutes": 15, "walk_m_per_min": 70, "required_for_life_circle": true},
 "daily_10min": {"label": "10分钟生活服务圈", "facility_types": ["supermarket", "community_service", "kindergarten"], "match": "any",
   "radius_m": 500, "minutes": 10, "walk_m_per_min": 70, "required_for_life_circle": true},
 "health_10min": {"label": "10分钟健康服务圈", "facility_types": ["clinic", "pharmacy"], "match": "any",
   "radius_m": 500, "minutes": 10, "walk_m_per_min": 70, "required_for_life_circle": true},
 "culture_10min": {"label": "10分钟文化服务圈", "facility_types": ["culture"], "radius_m": 500, "minutes": 10, "walk_m_per_min": 70,
   "required_for_life_circle": true},
 "fitness_10min": {"label": "10分钟健身圈", "facility_types": ["fitness"], "radius_m": 500, "minutes": 10, "walk_m_per_min": 70,
   "required_for_life_circle": true},
 "five_min": {"label": "5分钟生活圈", "facility_types": ["community_service", "supermarket", "elder_care"], "match": "any",
   "radius_m": 300, "minutes": 5, "walk_m_per_min": 70, "required_for_life_circle": false},
 "fire_station": {"label": "微型消防站", "facility_types": ["fire_station"], "radius_m": 1000, "minutes": 3, "walk_m_per_min": null,
   "required_for_life_circle": false}}}
JSON
HEL="--profile $tmp/circles.json --facilities $H/facilities_points.geojson --buildings $H/buildings.geojson"

# 1. Dissolved circles per type: one MultiPolygon feature per circle that has sites, readable by GDAL.
if "$GRIDPLAN" circles $HEL --per type --out "$tmp/type.geojson" 2>"$tmp/err"; then
  n=$(ogrinfo -so -al "$tmp/type.geojson" 2>/dev/null | sed -n 's/^Feature Count: //p')
  gt=$(ogrinfo -so -al "$tmp/type.geojson" 2>/dev/null | sed -n 's/^Geometry: //p')
  # Helsinki has sites for 5 of the 7 default circles (no culture, no fitness tags).
  if [ "$n" = 5 ] && [ "$gt" = "Multi Polygon" ]; then ok "circles --per type: 5 MultiPolygons read by ogrinfo"
  else notok "circles --per type" "features=$n geometry=$gt"; fi
else notok "circles --per type" "$(cat "$tmp/err")"; fi

# 2. Per facility: one feature per facility of the circle's types; health = clinics + pharmacies (13).
"$GRIDPLAN" circles $HEL --per facility --circle health_10min --out "$tmp/fac.geojson" 2>"$tmp/err"
n=$(ogrinfo -so -al "$tmp/fac.geojson" 2>/dev/null | sed -n 's/^Feature Count: //p')
[ "$n" = 13 ] && ok "circles --per facility: 13 health sites" || notok "circles --per facility" "features=$n $(cat "$tmp/err")"

# 3. Circle size in metres at 60°N: a lone 500 m disc is ~0.018° wide and ~0.009° tall.
"$GRIDPLAN" circles $HEL --per facility --circle fire_station --set fire_station.radius_m=500 --out "$tmp/fire.geojson" 2>"$tmp/err"
ext=$(ogrinfo -so -al "$tmp/fire.geojson" 2>/dev/null | sed -n 's/^Extent: //p' | tr -d '(),-' )
read -r x0 y0 x1 y1 <<<"$ext"
if awk -v a="$x0" -v b="$y0" -v c="$x1" -v d="$y1" 'BEGIN { w = c - a; h = d - b; exit !(w > 0.0175 && w < 0.0185 && h > 0.0088 && h < 0.0092) }'; then
  ok "500 m circle at Helsinki spans 1 km east-west and north-south (metric CRS)"
else notok "metric circle" "extent $ext"; fi

# 4. Coverage CSV: BOM, TOTAL row, households of the total equal the buildings' (449, one per building).
"$GRIDPLAN" coverage $HEL --format csv --out "$tmp/cov.csv" 2>"$tmp/err"
if head -c 3 "$tmp/cov.csv" | od -An -tx1 | grep -q 'ef bb bf' && grep -q '^TOTAL,,449,449,' "$tmp/cov.csv"; then
  ok "coverage CSV: BOM and TOTAL row with 449 buildings and households"
else notok "coverage CSV" "$(head -c 300 "$tmp/cov.csv") $(cat "$tmp/err")"; fi

# 5. Network mode on the OSM roads: says so, and never reaches more than straight mode with the same
#    budget (radius = budget when no speed is given) plus the road buffer.
"$GRIDPLAN" coverage $HEL --roads $H/roads.geojson --mode network --format json --set health_10min.walk_m_per_min=0 \
  --out "$tmp/net.json" 2>"$tmp/err"
"$GRIDPLAN" coverage $HEL --format json --set health_10min.radius_m=550 --out "$tmp/st550.json" 2>>"$tmp/err"
hn=$(grep -o '"health_10min":{"buildings":[0-9]*,"households":[0-9]*' "$tmp/net.json" | head -1 | sed 's/.*households"://')
hs=$(grep -o '"health_10min":{"buildings":[0-9]*,"households":[0-9]*' "$tmp/st550.json" | head -1 | sed 's/.*households"://')
if grep -q '"mode":"network"' "$tmp/net.json" && [ -n "$hn" ] && [ -n "$hs" ] && [ "$hn" -gt 0 ] && [ "$hn" -le "$hs" ]; then
  ok "network coverage ($hn households) within straight radius+buffer ($hs)"
else notok "network coverage" "network=$hn straight550=$hs $(cat "$tmp/err")"; fi

# 6. Network mode without roads is refused with a sentence.
if "$GRIDPLAN" coverage $HEL --mode network >/dev/null 2>"$tmp/err"; then notok "network without roads" "exit 0"
elif grep -q "no road layer" "$tmp/err"; then ok "network mode without roads names the problem"
else notok "network without roads" "$(cat "$tmp/err")"; fi

# 7. Liechtenstein: municipalities as communities; per-community rows sum to the total.
ogr2ogr -f GeoJSON "$tmp/comm.geojson" $L/admin_boundaries.geojson \
  -sql "SELECT name AS code, name FROM admin_boundaries WHERE admin_level = '8'" 2>/dev/null
LIE="--profile $tmp/circles.json --facilities $L/facilities_points.geojson --buildings $L/buildings.geojson --communities $tmp/comm.geojson"
"$GRIDPLAN" coverage $LIE --format csv --out "$tmp/li.csv" 2>"$tmp/err"
sums=$(awk -F, 'NR > 1 && $1 != "TOTAL" { b += $3; h += $4; c += $10 } $1 == "TOTAL" { tb = $3; th = $4; tc = $10 }
                END { print b, tb, h, th, c, tc }' "$tmp/li.csv")
read -r b tb h th c tc <<<"$sums"
if [ "$tb" = 3724 ] && [ "$b" = "$tb" ] && [ "$h" = "$th" ] && [ "$c" = "$tc" ]; then
  ok "Liechtenstein: community rows sum to the totals (3724 buildings, life_15min $tc households)"
else notok "Liechtenstein sums" "$sums"; fi

# 8. Uncovered list: one row per building the circle misses = total - covered.
"$GRIDPLAN" coverage $LIE --uncovered --circle health_10min --format csv --out "$tmp/unc.csv" 2>"$tmp/err"
unc=$(($(wc -l <"$tmp/unc.csv") - 1))
hc=$(awk -F, '$1 == "TOTAL" { print $24 }' "$tmp/li.csv")
[ "$((unc + ${hc:-0}))" = 3724 ] && ok "uncovered buildings ($unc) + covered ($hc) = 3724" || notok "uncovered list" "unc=$unc covered=$hc"

# 9. Gaps: each site adds households; after = before + the sites' sum.
"$GRIDPLAN" gaps $LIE --circle health_10min --k 3 --format json --out "$tmp/gaps.json" 2>"$tmp/err"
before=$(grep -o '"before":{"buildings":[0-9]*,"households":[0-9]*' "$tmp/gaps.json" | sed 's/.*households"://')
after=$(grep -o '"after":{"buildings":[0-9]*,"households":[0-9]*' "$tmp/gaps.json" | sed 's/.*households"://')
added=$(grep -o '"added":{"buildings":[0-9]*,"households":[0-9]*' "$tmp/gaps.json" | sed 's/.*households"://' | awk '{ s += $1 } END { print s + 0 }')
sites=$(grep -o '"rank":' "$tmp/gaps.json" | wc -l)
if [ "$sites" = 3 ] && [ -n "$before" ] && [ "$((before + added))" = "$after" ] && [ "$added" -gt 0 ]; then
  ok "gaps: 3 sites add $added households ($before -> $after)"
else notok "gaps" "sites=$sites before=$before added=$added after=$after $(cat "$tmp/err")"; fi

# 10. Bad input is named.
if "$GRIDPLAN" coverage $HEL --set nope.radius_m=3 >/dev/null 2>"$tmp/err"; then notok "unknown circle in --set" "exit 0"
elif grep -q "unknown circle 'nope'" "$tmp/err"; then ok "--set with an unknown circle is refused by name"
else notok "unknown circle in --set" "$(cat "$tmp/err")"; fi

# 11. Server: the computed OGC collections `circles` and `coverage` on a small demo city, and an
#     edit of a facility (PUT through the planning API) shows in coverage at once.
db=$tmp/demo/d.sqlite
mkdir -p "$tmp/demo"
"$GRIDPLAN" demo --out "$tmp/demo" --scale 0.05 >/dev/null 2>&1
for layer in streets communities buildings facilities roads; do
  "$GRIDPLAN" import --db "$db" --create --layer $layer "$tmp/demo/$layer.geojson" >/dev/null 2>&1 || notok "import $layer" "failed"
done
token=$("$GRIDPLAN" token add --db "$db" --name circles-it --role planner 2>/dev/null | tail -1)
env -u GRIDPLAN_QUIET "$GRIDPLAN" serve --db "$db" --port 0 >"$tmp/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; cp "$tmp/serve.log" /tmp/circles_serve_last.log 2>/dev/null; rm -rf "$tmp"' EXIT
port=
for _ in $(seq 50); do
  port=$(grep -o '127.0.0.1:[0-9]*' "$tmp/serve.log" | head -1 | cut -d: -f2)
  [ -n "$port" ] && break
  sleep 0.1
done
base=http://127.0.0.1:$port
ids=$(curl -s "$base/collections" | grep -o '"id":"[a-z]*"' | tr '\n' ' ')
if echo "$ids" | grep -q '"circles"' && echo "$ids" | grep -q '"coverage"'; then ok "/collections lists circles and coverage"
else notok "/collections" "$ids"; fi
st=$(curl -s "$base/collections/circles/items?circle=fire_station" | grep -o '"mode":"[a-z]*"' | tr '\n' ' ')
nw=$(curl -s "$base/collections/circles/items?mode=network" | grep -o '"mode":"[a-z]*"\|"id":[0-9]*' | tr '\n' ' ')
nid=$(echo "$nw" | grep -o '"id":[0-9]*' | head -1 | cut -d: -f2)
one=$(curl -s "$base/collections/circles/items/$nid" | grep -o '"mode":"network"')
if [ "$st" = '"mode":"straight" ' ] && echo "$nw" | grep -q '"mode":"network"' && [ "${nid:-0}" -gt 1000000 ] && [ -n "$one" ]; then
  ok "circles collection: straight by default, network circles with ?mode=network (first id $nid)"
else notok "circles modes" "straight='$st' network='$nw' item='$one'"; fi
ogrinfo -so "OAPIF:$base" circles >"$tmp/oapif.txt" 2>&1
if grep -q "Feature Count: [1-9]" "$tmp/oapif.txt"; then ok "GDAL's OAPIF driver reads the circles collection"
else notok "OAPIF circles" "$(tail -3 "$tmp/oapif.txt")"; fi
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/collections/coverage/items?nope=1")
[ "$code" = 400 ] && ok "coverage: unknown filter property is a 400" || notok "coverage filter" "status $code"

# Tiles: the circles layer has translucent circles around a clinic (alpha decoded by GDAL).
read -r lon lat <<<"$(sqlite3 "$db" "SELECT load_extension('mod_spatialite'); SELECT X(geom) || ' ' || Y(geom) FROM facilities WHERE type = 'clinic' ORDER BY fid LIMIT 1" 2>/dev/null | tail -1)"
read -r tx ty <<<"$(awk -v lon="$lon" -v lat="$lat" 'BEGIN { n = 2^14; pi = atan2(0, -1); r = lat * pi / 180;
  print int((lon + 180) / 360 * n), int((1 - log(sin(r) / cos(r) + 1 / cos(r)) / pi) / 2 * n) }')"
curl -s -o "$tmp/tile.png" "$base/tiles/circles/14/$tx/$ty.png"
if gdalinfo "$tmp/tile.png" 2>/dev/null | grep -q Palette; then gdal_translate -q -expand rgba "$tmp/tile.png" "$tmp/tile.tif"
else gdal_translate -q "$tmp/tile.png" "$tmp/tile.tif"; fi
amax=$(gdalinfo -stats "$tmp/tile.tif" 2>/dev/null | awk '/Band 4/ { b = 1 } b && /STATISTICS_MAXIMUM/ { sub(/.*=/, ""); print; exit }')
if [ -n "$amax" ] && [ "${amax%.*}" -gt 0 ] && [ "${amax%.*}" -lt 255 ]; then ok "tile circles/14/$tx/$ty: translucent circles drawn (alpha max $amax)"
else notok "circles tile" "alpha max '$amax' for $lon $lat"; fi

# The community with the most households out of fire-station reach; then a station moved to its centre.
first=$(curl -s "$base/collections/coverage/items?mode=straight&limit=10000" | python3 -c '
import json, sys
fs = json.load(sys.stdin)["features"]
f = max(fs, key=lambda f: f["properties"]["households"] - f["properties"]["fire_station_households"])
print(f["properties"]["code"], f["properties"]["fire_station_households"])' 2>/dev/null)
read -r code before <<<"$first"
centre=$(sqlite3 "$db" "SELECT load_extension('mod_spatialite'); SELECT X(PointOnSurface(geom)) || ',' || Y(PointOnSurface(geom)) FROM communities WHERE code = '$code'" 2>/dev/null | tail -1)
station=$(sqlite3 "$db" "SELECT fid FROM facilities WHERE type = 'fire_station' ORDER BY fid LIMIT 1")
# A facility edit outside the change log (as an import does) bumps meta data_version.
sqlite3 "$db" "SELECT load_extension('mod_spatialite');
  UPDATE facilities SET geom = MakePoint(${centre}, 4326) WHERE fid = $station;
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_version';" >/dev/null 2>"$tmp/sql.err"
status=$?
after=$(curl -s "$base/collections/coverage/items?mode=straight&code=$code" | grep -o '"fire_station_households":[0-9]*' | cut -d: -f2)
if [ "$status" = 0 ] && [ -n "$before" ] && [ -n "$after" ] && [ "$after" -gt "$before" ]; then
  ok "moving a fire station into community $code raises its fire coverage $before -> $after households"
else notok "coverage after edit" "sqlite3 $status ($(cat "$tmp/sql.err")) before=$before after=$after centre=$centre"; fi

# A community boundary edit through the planning API (a changeset): the circles clipped per
# community are recomputed from the new change id; the coverage collection still answers.
stamp1=$(curl -s "$base/collections/coverage/items?code=$code" | grep -o '"households":[0-9]*' | head -1)
# The community shrunk by ~10 m (stays valid, overlaps nobody).
geom=$(sqlite3 "$db" "SELECT load_extension('mod_spatialite');
  SELECT AsGeoJSON(CastToMultiPolygon(ST_Buffer(geom, -0.0001)), 7) FROM communities WHERE code = '$code'" 2>/dev/null | tail -1)
status=$(curl -s -o "$tmp/put.json" -w '%{http_code}' -X PUT -H "Authorization: Bearer $token" -d "$geom" \
  "$base/api/features/communities/$(curl -s "$base/collections/communities/items?code=$code" | grep -o '"id":[0-9]*' | head -1 | cut -d: -f2)")
stamp2=$(curl -s "$base/collections/coverage/items?code=$code" | grep -o '"households":[0-9]*' | head -1)
if [ "$status" = 200 ] && [ -n "$stamp2" ] && [ "$stamp1" = "$stamp2" ] && grep -q "circles: .* for data [0-9]*:[1-9][0-9]* in" "$tmp/serve.log"; then
  ok "after a community edit (changeset) coverage is rebuilt for the new change id"
else notok "coverage after a boundary edit" "PUT $status $(head -c 200 "$tmp/put.json") $stamp1 / $stamp2"; fi

# A boundary moved over buildings (two PUTs, as a planner does it: A gives up a strip along B, then
# B takes it): the strip's buildings follow to B, so /api/communities/{code} and the coverage
# collection show the new households; undoing both changesets restores the numbers exactly.
SQ() { sqlite3 "$db" "SELECT load_extension('mod_spatialite'); $1" 2>/dev/null | tail -n +2; }
pair=$(SQ "SELECT a.code || ' ' || b.code || ' ' || a.fid || ' ' || b.fid FROM communities a JOIN communities b
  ON a.fid <> b.fid AND ST_Touches(a.geom, b.geom) AND GLength(ST_Intersection(a.geom, b.geom)) > 0.003
  WHERE (SELECT count(*) FROM buildings x WHERE x.community_code = a.code
         AND ST_Distance(x.geom, b.geom) < 0.0015 AND ST_Distance(x.geom, b.geom) > 0) > 0
  ORDER BY a.fid, b.fid LIMIT 1" | tail -1)
read -r ca cb fa fb <<<"$pair"
hh() { curl -s "$base/api/communities/$1" | grep -o '"households":[0-9]*' | head -1 | cut -d: -f2; }
covhh() { curl -s "$base/collections/coverage/items?code=$1" | grep -o '"households":[0-9]*' | head -1 | cut -d: -f2; }
ha0=$(hh "$ca"); hb0=$(hh "$cb"); cova0=$(covhh "$ca"); covb0=$(covhh "$cb")
moved=$(SQ "SELECT count(*) || ' ' || coalesce(sum(x.households), 0) FROM buildings x, communities a, communities b
  WHERE a.code = '$ca' AND b.code = '$cb' AND x.community_code = a.code
    AND ST_Intersects(PointOnSurface(x.geom), ST_Intersection(a.geom, ST_Buffer(b.geom, 0.0015)))" | tail -1)
read -r nmoved hmoved <<<"$moved"
ga=$(SQ "SELECT AsGeoJSON(CastToMultiPolygon(ST_Difference(a.geom, ST_Buffer(b.geom, 0.0015))), 15)
  FROM communities a, communities b WHERE a.code = '$ca' AND b.code = '$cb'" | tail -1)
gb=$(SQ "SELECT AsGeoJSON(CastToMultiPolygon(ST_Union(b.geom, ST_Intersection(a.geom, ST_Buffer(b.geom, 0.0015)))), 15)
  FROM communities a, communities b WHERE a.code = '$ca' AND b.code = '$cb'" | tail -1)
put() { curl -s -o "$tmp/put.json" -w '%{http_code}' -X PUT -H "Authorization: Bearer $token" -d "$2" "$base/api/features/communities/$1"; }
s1=$(put "$fa" "$ga"); c1=$(grep -o '"changeset":[0-9]*' "$tmp/put.json" | cut -d: -f2)
s2=$(put "$fb" "$gb"); c2=$(grep -o '"changeset":[0-9]*' "$tmp/put.json" | cut -d: -f2)
ha1=$(hh "$ca"); hb1=$(hh "$cb"); cova1=$(covhh "$ca"); covb1=$(covhh "$cb")
if [ "$s1 $s2" = "200 200" ] && [ "${hmoved:-0}" -gt 0 ] && [ "$ha1" = "$((ha0 - hmoved))" ] && [ "$hb1" = "$((hb0 + hmoved))" ] &&
   [ "$cova1" = "$((cova0 - hmoved))" ] && [ "$covb1" = "$((covb0 + hmoved))" ]; then
  ok "boundary $ca -> $cb moved over $nmoved buildings: households $ha0/$hb0 -> $ha1/$hb1 in the API and coverage"
else notok "buildings follow a boundary edit" "PUT $s1 $s2 ($(head -c 200 "$tmp/put.json")) moved=$moved api $ha0/$hb0 -> $ha1/$hb1 coverage $cova0/$covb0 -> $cova1/$covb1"; fi
u1=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" "$base/api/undo/$c2")
u2=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" "$base/api/undo/$c1")
ha2=$(hh "$ca"); hb2=$(hh "$cb"); cova2=$(covhh "$ca"); covb2=$(covhh "$cb")
codes2=$(SQ "SELECT count(*) FROM buildings WHERE community_code IN ('$ca', '$cb')" | tail -1)
if [ "$u1 $u2" = "200 200" ] && [ "$ha2/$hb2 $cova2/$covb2" = "$ha0/$hb0 $cova0/$covb0" ]; then
  ok "undoing both edits restores households $ha0/$hb0 exactly (API and coverage; $codes2 buildings in the pair)"
else notok "undo of a boundary move" "undo $u1 $u2: api $ha2/$hb2 coverage $cova2/$covb2, expected $ha0/$hb0 $cova0/$covb0"; fi

exit $((fails > 0))
