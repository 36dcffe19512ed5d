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
HEL="--facilities $H/facilities_points.geojson --buildings $H/buildings.geojson"

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
LIE="--facilities $L/facilities_points.geojson --buildings $L/buildings.geojson --communities $tmp/comm.geojson"
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

exit $((fails > 0))
