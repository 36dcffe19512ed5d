#!/usr/bin/env bash
# it_ogcapi_gdal.sh — GDAL's OAPIF driver reads gridplan as any OGC API - Features server: it lists
# every collection, reports Feature Count equal to the database's row count, and reading every
# feature (paging through next links) gives the same count, fids and attribute sums.
set -u
. "$(dirname "$0")/http_lib.sh"
command -v ogrinfo >/dev/null || { notok "ogrinfo not installed (gdal-bin)"; exit 1; }
WORK=$(mktemp -d)
trap 'stop_server; rm -rf "$WORK"' EXIT
DB=$WORK/city.sqlite
make_city "$DB" 12000 >/dev/null || { notok "test city"; exit 1; }
start_server "$DB" --threads 2 --access-log "$WORK/access.log" || { notok "server start"; exit 1; }
export GDAL_HTTP_TIMEOUT=30 CPL_VSIL_CURL_ALLOWED_EXTENSIONS=none

list=$(ogrinfo -ro -so "OAPIF:$BASE" 2>&1)
for c in communities grids buildings facilities streets roads police; do
  echo "$list" | grep -q "^[0-9]*: $c " && ok "ogrinfo lists $c" || notok "ogrinfo does not list $c: $list"
done

for c in communities grids buildings facilities streets roads; do
  n=$(sql "$DB" "SELECT count(*) FROM $c")
  fc=$(ogrinfo -ro -al -so "OAPIF:$BASE" "$c" 2>&1 | sed -n 's/^Feature Count: //p')
  [ "$fc" = "$n" ] && ok "$c: GDAL Feature Count $fc = database rows" || notok "$c: Feature Count '$fc' vs $n rows"
  # Read everything through GDAL (it follows the next links) into GeoJSON and compare.
  rm -f "$WORK/$c.geojson"
  ogr2ogr -f GeoJSON "$WORK/$c.geojson" "OAPIF:$BASE" "$c" 2>"$WORK/ogr2ogr.err"
  case $c in communities|grids|streets) key=code;; *) key=ext_id;; esac
  got=$(jq_py "len(d['features']), len({f['properties']['$key'] for f in d['features']})" <"$WORK/$c.geojson" 2>/dev/null)
  [ "$got" = "$n $n" ] && ok "$c: GDAL read all $n features, $n distinct $key values" || notok "$c: GDAL read '$got' of $n: $(head -c 300 "$WORK/ogr2ogr.err")"
done

# Attributes survive the trip: household sums match the database.
for c in communities buildings; do
  n=$(sql "$DB" "SELECT sum(households) FROM $c")
  got=$(jq_py "sum(f['properties']['households'] for f in d['features'])" <"$WORK/$c.geojson")
  [ "$got" = "$n" ] && ok "$c: sum of households $got = database" || notok "$c: households $got vs $n"
done

# A bbox query through GDAL's spatial filter.
n=$(sql "$DB" "SELECT count(*) FROM buildings WHERE ST_Intersects(geom, BuildMbr(111.65, 40.82, 111.7, 40.86))")
got=$(ogrinfo -ro -al -so -spat 111.65 40.82 111.7 40.86 "OAPIF:$BASE" buildings 2>&1 | sed -n 's/^Feature Count: //p')
[ "$got" = "$n" ] && ok "GDAL spatial filter on buildings: $got = ST_Intersects count" || notok "spatial filter: $got vs $n"
grep -q 'bbox=111.65' "$WORK/access.log" && ok "the spatial filter went to the server as bbox=" || notok "no bbox request in the access log"
stop_server
exit $FAILED
