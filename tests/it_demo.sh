#!/usr/bin/env bash
# it_demo.sh — `gridplan demo` end to end: GDAL reads every layer, a second run is byte-identical,
# and `gridplan import` loads the five layers with every building inside a community.
set -u
G=${GRIDPLAN:?set GRIDPLAN to the gridplan binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fail=1; }

if "$G" demo --out "$tmp/a" --scale 0.1 >"$tmp/demo.log" 2>&1; then ok "gridplan demo --scale 0.1 runs"
else bad "gridplan demo failed: $(tail -1 "$tmp/demo.log")"; exit 1; fi
"$G" demo --out "$tmp/b" --scale 0.1 >/dev/null 2>&1
same=1
for l in streets communities buildings facilities roads; do cmp -s "$tmp/a/$l.geojson" "$tmp/b/$l.geojson" || same=0; done
[ $same = 1 ] && ok "two runs give byte-identical files" || bad "two runs differ"

declare -A count
for l in streets:Multi\ Polygon communities:Multi\ Polygon buildings:Point facilities:Point roads:Line\ String; do
  layer=${l%%:*}; want=${l#*:}
  info=$(ogrinfo -ro -so "$tmp/a/$layer.geojson" "$layer" 2>&1)
  n=$(printf '%s\n' "$info" | sed -n 's/^Feature Count: //p')
  geom=$(printf '%s\n' "$info" | sed -n 's/^Geometry: //p')
  count[$layer]=${n:-0}
  if [ "${n:-0}" -gt 0 ] && [ "$geom" = "$want" ]; then ok "GDAL reads $layer: $n features, $geom"
  else bad "GDAL on $layer: count '${n:-}' geometry '$geom' (want $want)"; fi
done
ogrinfo -ro -so "$tmp/a/communities.geojson" communities | grep -q 'households: Integer' \
  && ok "GDAL sees households as integers" || bad "households not an integer field"

db="$tmp/demo.sqlite"
for l in streets communities buildings facilities roads; do
  if "$G" import --db "$db" --create --layer "$l" "$tmp/a/$l.geojson" >"$tmp/import.log" 2>&1; then ok "import $l"
  else bad "import $l: $(tail -2 "$tmp/import.log" | tr '\n' ' ')"; fi
  if [ "$l" = buildings ]; then
    grep -q ', 0 outside every community' "$tmp/import.log" && ok "import puts every building inside a community" \
      || bad "buildings outside communities: $(grep -a outside "$tmp/import.log")"
  fi
done
json=$("$G" info --db "$db" --json 2>&1)
for l in streets communities buildings facilities roads; do
  n=$(printf '%s' "$json" | grep -o "\"$l\":[0-9]*" | cut -d: -f2)
  [ "${n:-x}" = "${count[$l]}" ] && ok "database holds $n $l" || bad "database $l: '${n:-}' vs ${count[$l]} in the file"
done
hh=$(printf '%s' "$json" | grep -o '"households":[0-9]*' | cut -d: -f2)
bhh=$(printf '%s' "$json" | grep -o '"building_households":[0-9]*' | cut -d: -f2)
want=$(grep -o 'households [0-9]*' "$tmp/demo.log" | head -1 | cut -d' ' -f2)
[ -n "$hh" ] && [ "$hh" = "$want" ] && [ "$bhh" = "$want" ] && ok "households agree: demo $want, communities $hh, buildings $bhh" \
  || bad "households: demo '$want', communities '$hh', buildings '$bhh'"
exit $fail
