#!/usr/bin/env bash
# it_tiles.sh — tile endpoints end to end: PNG sizes, TileJSON, ETag/304, bad z/x/y and layers, an
# edit through PUT /api/features expiring exactly its tiles (disk and memory), gridplan seed/tile.
set -u
GRIDPLAN=${GRIDPLAN:-build/gridplan}
. "$(dirname "$0")/http_lib.sh"
WORK=$(mktemp -d)
trap 'stop_server; rm -rf "$WORK"' EXIT
DB=$WORK/city.sqlite
TOKEN=$(make_city "$DB" 2000) || { notok "make the test city"; exit 1; }

# tile_of LON LAT Z -> "x y"
tile_of() { python3 -c "import math,sys; lon,lat,z=float(sys.argv[1]),float(sys.argv[2]),int(sys.argv[3]); n=2**z
print(int((lon+180)/360*n), int((1-math.log(math.tan(math.radians(lat))+1/math.cos(math.radians(lat)))/math.pi)/2*n))" "$@"; }
png_size() { python3 -c "import struct,sys; d=open(sys.argv[1],'rb').read(24); assert d[:8]==b'\x89PNG\r\n\x1a\n'; print('%dx%d' % struct.unpack('>II', d[16:24]))" "$1"; }
header() { grep -i "^$1:" "$2" | head -1 | cut -d' ' -f2- | tr -d '\r'; }

start_server "$DB" --tiles-dir "$WORK/tiles" --access-log off || exit 1

read -r X Y < <(tile_of 111.603 40.803 15)       # inside community 1 (111.60-111.61, 40.80-40.81)
read -r FX FY < <(tile_of 111.795 40.895 15)     # community 200, far from it
U=$BASE/tiles/default/15
curl -s -D "$WORK/h1" -o "$WORK/near1.png" "$U/$X/$Y.png"
curl -s -D "$WORK/h2" -o "$WORK/near2.png" "$U/$X/$Y.png"
[ "$(png_size "$WORK/near1.png")" = 256x256 ] && [ "$(header X-Tile-Cache "$WORK/h1")" = miss ] &&
  [ "$(header X-Tile-Cache "$WORK/h2")" = hit ] && cmp -s "$WORK/near1.png" "$WORK/near2.png" &&
  [ "$(header Content-Type "$WORK/h1")" = image/png ] && [ "$(header Cache-Control "$WORK/h1")" = no-cache ] \
  && ok "tile is a 256x256 PNG, rendered once then served from the cache" || notok "first/second tile request"
ETAG=$(header ETag "$WORK/h2")
[ "$(status -H "If-None-Match: $ETAG" "$U/$X/$Y.png")" = 304 ] && ok "If-None-Match with the ETag gives 304" \
  || notok "304 on If-None-Match ($ETAG)"
curl -s -o "$WORK/retina.png" "$U/$X/$Y@2x.png"
[ "$(png_size "$WORK/retina.png")" = 512x512 ] && ok "@2x tile is 512x512" || notok "@2x size $(png_size "$WORK/retina.png")"
curl -s -o "$WORK/far1.png" "$U/$FX/$FY.png"
[ -f "$WORK/tiles/city/default/15/$X/$Y.png" ] && [ -f "$WORK/tiles/city/default/15/$FX/$FY.png" ] \
  && ok "tiles written to tiles/<db>/<layer>/<z>/<x>/<y>.png" || notok "disk cache files missing"

B=$(curl -s "$BASE/tiles/communities.json" | jq_py "d['tilejson'], d['bounds'], d['tiles'][0].endswith('/tiles/communities/{z}/{x}/{y}.png')")
[ "$B" = "3.0.0 [111.6, 40.8, 111.8, 40.9] True" ] && ok "TileJSON 3.0.0 with the city's bounds" || notok "TileJSON: $B"

codes=""
for u in default/21/0/0.png default/3/8/0.png default/3/0/-1.png default/3/x/0.png nope/3/0/0.png default/3/0/0.gif nope.json; do
  codes="$codes $(status "$BASE/tiles/$u")"
done
[ "$codes" = " 400 400 400 400 404 404 404" ] && ok "bad z/x/y give 400, unknown layers 404" || notok "error codes:$codes"
curl -s "$BASE/tiles/default/21/0/0.png" | jq_py "d['code'], d['error']" | grep -q "400 bad request" \
  && ok "error bodies are the JSON error shape" || notok "error body"

# Service circles (circles module, straight-line, dissolved per circle type) around facility f0
curl -s -o "$WORK/circ.png" "$BASE/tiles/circles/15/$X/$Y.png"
curl -s -o "$WORK/circ_far.png" "$BASE/tiles/circles/9/$((X >> 6))/$(( (Y >> 6) + 1 )).png"
[ "$(stat -c %s "$WORK/circ.png")" -gt 300 ] && [ "$(stat -c %s "$WORK/circ_far.png")" -lt 200 ] \
  && ok "circles layer drawn around facilities, empty elsewhere" \
  || notok "circles tile sizes $(stat -c %s "$WORK/circ.png") / $(stat -c %s "$WORK/circ_far.png")"

# An edit: shrink community 1 to its western half. Its tiles re-render, the far tile stays cached.
FID=$(sql "$DB" "SELECT fid FROM communities WHERE code = '150102001001'")
S=$(status -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"type":"Polygon","coordinates":[[[111.6,40.8],[111.605,40.8],[111.605,40.81],[111.6,40.81],[111.6,40.8]]]}' \
  "$BASE/api/features/communities/$FID")
[ "$S" = 200 ] && ok "PUT of community $FID applied" || notok "PUT community: status $S"
[ ! -f "$WORK/tiles/city/default/15/$X/$Y.png" ] && [ -f "$WORK/tiles/city/default/15/$FX/$FY.png" ] \
  && ok "the edit removed the tile under it from disk and kept the far one" || notok "disk expiry"
curl -s -D "$WORK/h3" -o "$WORK/near3.png" "$U/$X/$Y.png"
curl -s -D "$WORK/h4" -o "$WORK/far2.png" "$U/$FX/$FY.png"
[ "$(header X-Tile-Cache "$WORK/h3")" = miss ] && [ "$(header X-Tile-Cache "$WORK/h4")" = hit ] &&
  cmp -s "$WORK/far1.png" "$WORK/far2.png" && ok "next request re-renders the edited tile; the far one is a cache hit" \
  || notok "memory expiry: near $(header X-Tile-Cache "$WORK/h3"), far $(header X-Tile-Cache "$WORK/h4")"
[ "$(status -H "If-None-Match: $ETAG" "$U/$X/$Y.png")" = 200 ] && ! cmp -s "$WORK/near1.png" "$WORK/near3.png" \
  && ok "the edited tile has new bytes (old ETag no longer matches)" || notok "edited tile unchanged"
stop_server

# gridplan seed and gridplan tile
out=$("$GRIDPLAN" seed --db "$DB" --layer communities --zoom 12-14 --tiles "$WORK/tiles" --threads 2 2>/dev/null)
n=$(find "$WORK/tiles/city/communities" -name '*.png' | wc -l)
echo "$out" | grep -q "^seeded communities z12-14: $n tiles" && [ "$n" -gt 10 ] \
  && ok "seed renders every tile of the range into the cache ($n) and says so" || notok "seed: $out ($n files)"
"$GRIDPLAN" tile --db "$DB" --layer police --scale 2 --out "$WORK/t.png" 14 $((X / 2)) $((Y / 2)) >/dev/null &&
  [ "$(png_size "$WORK/t.png")" = 512x512 ] && ok "gridplan tile writes a @2x PNG" || notok "gridplan tile"
"$GRIDPLAN" tile --db "$DB" --out "$WORK/t.png" 3 9 0 2>/dev/null; rc=$?
[ $rc = 2 ] && ok "gridplan tile refuses x outside the zoom (exit 2)" || notok "gridplan tile bad x: exit $rc"
exit $FAILED
