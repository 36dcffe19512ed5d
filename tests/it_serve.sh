#!/usr/bin/env bash
# it_serve.sh — gridplan serve end to end with curl: OGC API documents, items paging and counts
# against the database, bbox and filters, gzip, ETag/304, auth on writes, config file, access log,
# graceful shutdown.
set -u
. "$(dirname "$0")/http_lib.sh"
WORK=$(mktemp -d)
trap 'stop_server; rm -rf "$WORK"' EXIT
DB=$WORK/city.sqlite
TOKEN=$(make_city "$DB") || { notok "test city"; exit 1; }
VIEWER=$(cat "$DB.viewer")
start_server "$DB" --threads 2 --access-log "$WORK/access.log" || { notok "server start"; exit 1; }
ok "server listens on 127.0.0.1:$PORT"

t=$(curl -s "$BASE/" | jq_py "sorted(l['rel'] for l in d['links'])")
[ "$t" = "['conformance', 'data', 'self', 'service-desc']" ] && ok "landing page links" || notok "landing page links: $t"
t=$(curl -s "$BASE/openapi" | jq_py "d['openapi'], len(d['paths'])")
[ "$t" = "3.0.3 6" ] && ok "service-desc: OpenAPI 3.0 document with the 6 OGC paths" || notok "openapi: $t"
t=$(curl -s "$BASE/conformance" | jq_py "len([c for c in d['conformsTo'] if c.endswith('/conf/core') or c.endswith('/conf/geojson')])")
[ "$t" = 2 ] && ok "conformance lists core and geojson" || notok "conformance: $t"
t=$(curl -s "$BASE/collections" | jq_py "' '.join(c['id'] for c in d['collections'])")
case "$t" in "communities grids buildings facilities streets roads"*) ok "collections: $t";; *) notok "collections: $t";; esac
# The extent comes from the R*Tree, whose 32-bit floats round outwards by up to ~2e-6 degrees.
t=$(curl -s "$BASE/collections/communities" | jq_py "all(abs(a-b) < 1e-5 for a, b in zip(d['extent']['spatial']['bbox'][0], [111.6, 40.8, 111.8, 40.9]))")
[ "$t" = True ] && ok "collection extent from the spatial index" || notok "collection extent: $t"

# Every table: numberMatched equals the row count; paging through next links returns every fid once.
for c in communities grids buildings facilities streets roads; do
  n=$(sql "$DB" "SELECT count(*) FROM $c")
  url="$BASE/collections/$c/items?limit=1000"
  seen=0; pages=0; ids=$WORK/ids_$c
  : >"$ids"
  while [ -n "$url" ]; do
    curl -s "$url" >"$WORK/page.json"
    matched=$(jq_py "d['numberMatched']" <"$WORK/page.json")
    jq_py "'\n'.join(str(f['id']) for f in d['features'])" <"$WORK/page.json" >>"$ids"
    url=$(jq_py "next((l['href'] for l in d['links'] if l['rel']=='next'), '')" <"$WORK/page.json")
    pages=$((pages + 1)); [ $pages -gt 100 ] && break
  done
  got=$(grep -c . "$ids"); uniq=$(sort -u "$ids" | grep -c .)
  if [ "$matched" = "$n" ] && [ "$got" = "$n" ] && [ "$uniq" = "$n" ]; then ok "$c: numberMatched $matched = rows, $got features over $pages pages"
  else notok "$c: rows $n, numberMatched $matched, paged $got ($uniq distinct)"; fi
done

# bbox: the server's count equals SpatiaLite's exact intersects count.
bbox=111.633,40.822,111.671,40.861
n=$(sql "$DB" "SELECT count(*) FROM buildings WHERE ST_Intersects(geom, BuildMbr(111.633,40.822,111.671,40.861))")
t=$(curl -s "$BASE/collections/buildings/items?bbox=$bbox&limit=10000" | jq_py "d['numberMatched'], d['numberReturned'], len(d['features'])")
[ "$t" = "$n $n $n" ] && ok "bbox on buildings: $n features, same as ST_Intersects" || notok "bbox on buildings: $t vs $n"
n=$(sql "$DB" "SELECT count(*) FROM communities WHERE ST_Intersects(geom, BuildMbr(111.633,40.822,111.671,40.861))")
t=$(curl -s "$BASE/collections/communities/items?bbox=$bbox&limit=100" | jq_py "d['numberMatched']")
[ "$t" = "$n" ] && ok "bbox on communities: $n" || notok "bbox on communities: $t vs $n"
n=$(sql "$DB" "SELECT count(*) FROM communities WHERE street_code = '150102002'")
t=$(curl -s "$BASE/collections/communities/items?street_code=150102002&limit=1000" | jq_py "d['numberMatched'], all(f['properties']['street_code']=='150102002' for f in d['features'])")
[ "$t" = "$n True" ] && ok "property filter street_code=150102002: $n" || notok "property filter: $t vs $n"
t=$(curl -s "$BASE/collections/facilities/items?type=police&limit=1000" | jq_py "d['numberMatched']")
[ "$t" = 25 ] && ok "property filter type=police: 25" || notok "type filter: $t"
t=$(curl -s "$BASE/collections/communities/items?households=537" | jq_py "d['numberMatched']")
n=$(sql "$DB" "SELECT count(*) FROM communities WHERE households = 537")
[ "$t" = "$n" ] && ok "integer filter households=537: $n" || notok "integer filter: $t vs $n"

# One feature: properties are the row's columns, geometry the stored one.
t=$(curl -s "$BASE/collections/communities/items/21" | jq_py "d['type'], d['id'], d['properties']['code'], d['geometry']['type'], d['geometry']['coordinates'][0][0][0]")
[ "$t" = "Feature 21 150102001021 MultiPolygon [111.6, 40.81]" ] && ok "feature 21" || notok "feature 21: $t"
t=$(curl -s "$BASE/collections/buildings/items/7" | jq_py "d['geometry']['type'], d['properties']['ext_id']")
[ "$t" = "Point b6" ] && ok "building point feature" || notok "building feature: $t"

# Content negotiation, gzip, ETag.
ct=$(curl -s -o /dev/null -w '%{content_type}' "$BASE/collections/communities/items")
[ "$ct" = "application/geo+json" ] && ok "items content type application/geo+json" || notok "content type $ct"
h=$(curl -s -D - -o "$WORK/gz" -H 'Accept-Encoding: gzip' "$BASE/collections/communities/items?limit=100")
if echo "$h" | grep -qi '^Content-Encoding: gzip' && [ "$(gzip -dc "$WORK/gz" | jq_py 'd["numberReturned"]')" = 100 ]; then
  ok "gzip when accepted ($(stat -c %s "$WORK/gz") bytes for 100 communities)"; else notok "gzip: $h"; fi
h=$(curl -s -D - -o /dev/null "$BASE/collections/communities/items?limit=100")
echo "$h" | grep -qi '^Content-Encoding' && notok "gzip without Accept-Encoding" || ok "identity without Accept-Encoding"
h2=$(curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip;q=0, identity' "$BASE/collections/communities/items?limit=100")
echo "$h2" | grep -qi '^Content-Encoding' && notok "gzip;q=0 still gzipped" || ok "gzip;q=0 refuses gzip"
etag=$(echo "$h" | sed -n 's/^ETag: \(.*\)\r$/\1/Ip')
s=$(status -H "If-None-Match: $etag" "$BASE/collections/communities/items?limit=100")
[ -n "$etag" ] && [ "$s" = 304 ] && ok "If-None-Match $etag gives 304" || notok "ETag/304: '$etag' $s"
s=$(status -H 'If-None-Match: "other"' "$BASE/collections/communities/items?limit=100")
[ "$s" = 200 ] && ok "a stale ETag gives 200" || notok "stale etag: $s"

# Auth on writes: no token 401, wrong token 401, viewer 403; reads stay open.
body='{"type":"Polygon","coordinates":[[[111.6,40.8],[111.61,40.8],[111.61,40.81],[111.6,40.81],[111.6,40.8]]]}'
s=$(status -X PUT --data "$body" "$BASE/api/features/communities/1")
[ "$s" = 401 ] && ok "PUT without token: 401" || notok "PUT without token: $s"
s=$(status -X PUT -H "Authorization: Bearer gp_nope" --data "$body" "$BASE/api/features/communities/1")
[ "$s" = 401 ] && ok "PUT with a wrong token: 401" || notok "wrong token: $s"
s=$(status -X PUT -H "Authorization: Bearer $VIEWER" --data "$body" "$BASE/api/features/communities/1")
[ "$s" = 403 ] && ok "PUT with a viewer token: 403" || notok "viewer token: $s"

# Edits (planner): a valid move is applied and logged; overlap and invalid geometry are 422 with
# the reason; history names the token owner; undo restores the stored geometry byte for byte.
auth=(-H "Authorization: Bearer $TOKEN")
before=$(sql "$DB" "SELECT hex(geom) FROM communities WHERE fid = 1")
shrunk='{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[111.601,40.801],[111.609,40.801],[111.609,40.809],[111.601,40.809],[111.601,40.801]]]}}'
curl -s -o "$WORK/put.json" -w '%{http_code}' -X PUT "${auth[@]}" --data "$shrunk" "$BASE/api/features/communities/1" >"$WORK/put.code"
cs=$(jq_py "d.get('changeset')" <"$WORK/put.json")
area=$(sql "$DB" "SELECT round(ST_Area(geom) * 1e6, 3) FROM communities WHERE fid = 1")
[ "$(cat "$WORK/put.code")" = 200 ] && [ "$area" = 64.0 ] && ok "PUT community 1 applied as changeset $cs (area now 0.008² deg)" || notok "PUT: $(cat "$WORK/put.code") $(cat "$WORK/put.json") area $area"
overlap='{"type":"Polygon","coordinates":[[[111.6,40.8],[111.615,40.8],[111.615,40.81],[111.6,40.81],[111.6,40.8]]]}'
t=$(curl -s -w ' %{http_code}' -X PUT "${auth[@]}" --data "$overlap" "$BASE/api/features/communities/1")
case "$t" in *'"overlaps neighbour"'*150102001002*' 422') ok "overlapping edit rejected 422 naming the neighbour";; *) notok "overlap: $t";; esac
bowtie='{"type":"Polygon","coordinates":[[[111.6,40.8],[111.61,40.81],[111.61,40.8],[111.6,40.81],[111.6,40.8]]]}'
t=$(curl -s -w ' %{http_code}' -X PUT "${auth[@]}" --data "$bowtie" "$BASE/api/features/communities/1")
case "$t" in *'Self-intersection'*' 422') ok "self-intersecting edit rejected 422 with GEOS's reason";; *) notok "bowtie: $t";; esac
t=$(curl -s "$BASE/api/history" | jq_py "d[0]['id'], d[0]['user'], d[0]['op'], d[0]['summary']['fid']")
[ "$t" = "$cs planner1 edit 1" ] && ok "history: newest is $cs by planner1" || notok "history: $t"
t=$(curl -s -w ' %{http_code}' -X POST "${auth[@]}" "$BASE/api/undo/$cs")
after=$(sql "$DB" "SELECT hex(geom) FROM communities WHERE fid = 1")
case "$t" in *"\"undo_of\":$cs"*' 200') [ "$after" = "$before" ] && ok "undo $cs restores the geometry byte for byte" || notok "undo geometry differs";; *) notok "undo: $t";; esac
t=$(curl -s -w ' %{http_code}' -X POST "${auth[@]}" "$BASE/api/undo/$cs")
case "$t" in *' 409') ok "undoing it twice is 409";; *) notok "double undo: $t";; esac
s=$(status -X POST "${auth[@]}" "$BASE/api/undo/999999")
[ "$s" = 404 ] && ok "undo of an unknown changeset is 404" || notok "unknown undo: $s"

# RFC 7946 ring orientation: a clockwise stored exterior ring with a counterclockwise hole comes
# out counterclockwise with a clockwise hole.
sql "$DB" "INSERT INTO communities(code, name, geom) VALUES ('150102009001', 'cw', GeomFromText('MULTIPOLYGON(((111.9 40.8, 111.9 40.81, 111.91 40.81, 111.91 40.8, 111.9 40.8), (111.902 40.802, 111.908 40.802, 111.908 40.808, 111.902 40.808, 111.902 40.802)))', 4326))" >/dev/null
t=$(curl -s "$BASE/collections/communities/items?code=150102009001" | jq_py "[round(sum(r[i][0]*r[i+1][1]-r[i+1][0]*r[i][1] for i in range(len(r)-1))*1e6) for r in d['features'][0]['geometry']['coordinates'][0]]")
[ "$t" = "[200, -72]" ] && ok "RFC 7946 orientation: exterior ring counterclockwise, hole clockwise" || notok "orientation: $t"

# Exact bbox semantics on polygons: a bbox wholly inside a community (no vertex or edge in it) finds
# it; a bbox inside its hole does not; a bbox in the envelope of an L-shaped community but off its
# arms does not; each answer agrees with SpatiaLite's ST_Intersects.
sql "$DB" "INSERT INTO communities(code, name, geom) VALUES ('150102009002', 'L', GeomFromText('MULTIPOLYGON(((111.92 40.8, 111.94 40.8, 111.94 40.805, 111.925 40.805, 111.925 40.82, 111.92 40.82, 111.92 40.8)))', 4326))" >/dev/null
for bb in 111.9005,40.8005,111.9008,40.8008 111.903,40.803,111.904,40.804 111.93,40.81,111.935,40.815 111.921,40.81,111.93,40.811; do
  want=$(sql "$DB" "SELECT group_concat(code) FROM (SELECT code FROM communities WHERE ST_Intersects(geom, BuildMbr($bb)) ORDER BY fid)")
  got=$(curl -s "$BASE/collections/communities/items?bbox=$bb" | jq_py "','.join(f['properties']['code'] for f in d['features'])")
  [ "$got" = "$want" ] && ok "bbox $bb: [$got] as ST_Intersects" || notok "bbox $bb: got [$got], ST_Intersects [$want]"
done

# Access log: one line per request, with method, URI and status.
sleep 0.2
grep -q 'GET "/collections/communities/items/21" 200' "$WORK/access.log" && ok "access log line per request" || notok "access log: $(tail -2 "$WORK/access.log")"
grep -q 'PUT "/api/features/communities/1" 403 .* viewer1$' "$WORK/access.log" && ok "access log names the token owner" || notok "access log owner"

# Graceful stop on SIGTERM: exit status 0.
stop_server && ok "SIGTERM stops the server with status 0" || notok "SIGTERM exit status"

# Config file: port 0, token-gated reads, CORS; a flag overrides the file.
cat >"$WORK/serve.conf" <<CONF
# gridplan serve settings
threads = 1
read-role = viewer
cors = https://map.example.org
access-log = off
CONF
start_server "$DB" --config "$WORK/serve.conf" --threads 2 || { notok "server with config"; exit 1; }
grep -q 'with 2 threads' "$WORK/server.out" && ok "flag overrides config file" || notok "flag override: $(cat "$WORK/server.out")"
s=$(status "$BASE/collections")
[ "$s" = 401 ] && ok "read-role viewer: anonymous read is 401" || notok "token-gated read: $s"
s=$(status -H "Authorization: Bearer $VIEWER" "$BASE/collections")
[ "$s" = 200 ] && ok "read-role viewer: viewer token reads" || notok "viewer read: $s"
h=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $VIEWER" "$BASE/collections")
echo "$h" | grep -qi '^Access-Control-Allow-Origin: https://map.example.org' && ok "CORS header from config" || notok "CORS: $h"
s=$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS -H 'Origin: https://map.example.org' -H 'Access-Control-Request-Method: PUT' "$BASE/api/features/communities/1")
[ "$s" = 204 ] && ok "CORS preflight 204" || notok "preflight: $s"
stop_server
exit $FAILED
