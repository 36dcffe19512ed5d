#!/usr/bin/env bash
# it_plan.sh — the planning commands end to end on a small imported city: preview writes nothing,
# split/plan/grids apply as changesets, undo restores byte-identical geometry, locked communities
# stay untouched, police CSV has a BOM, diff lists moved buildings.
set -u
G=${GRIDPLAN:-build/gridplan}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1: $2"; fail=1; }
q() { sqlite3 "$dir/t.sqlite" "SELECT load_extension('mod_spatialite'); $1" | tail -n +2; }

# Three 0.01° squares W->E: 5,000 households (split), 500 (merge), 1,500; 100 buildings each.
awk -v dir="$dir" 'BEGIN{
 hh[0]=50; hh[1]=5; hh[2]=15; n=0;
 c_out=dir "/c.geojson"; b_out=dir "/b.geojson";
 printf "{\"type\":\"FeatureCollection\",\"features\":[" > c_out;
 printf "{\"type\":\"FeatureCollection\",\"features\":[" > b_out;
 for(c=0;c<3;c++){x=111.6+0.01*c;
  printf "%s{\"type\":\"Feature\",\"properties\":{\"code\":\"15010200100%d\",\"name\":\"社区%d\",\"street_code\":\"150102001\",\"households\":%d,\"population\":%d},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[%.2f,40.8],[%.2f,40.8],[%.2f,40.81],[%.2f,40.81],[%.2f,40.8]]]}}", (c?",":""), c+1, c+1, hh[c]*100, hh[c]*250, x, x+0.01, x+0.01, x, x > c_out;
  for(i=0;i<100;i++) printf "%s{\"type\":\"Feature\",\"properties\":{\"households\":%d,\"population\":%d,\"community_code\":\"15010200100%d\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.5f,%.5f]}}", (n++?",":""), hh[c], hh[c]*2.5, c+1, x+0.001*(i%10)+0.0005, 40.8+0.001*int(i/10)+0.0005 > b_out;
 }
 print "]}" > c_out; print "]}" > b_out}'
"$G" import --create --db "$dir/t.sqlite" --layer communities "$dir/c.geojson" >/dev/null 2>&1 &&
  "$G" import --db "$dir/t.sqlite" --layer buildings "$dir/b.geojson" >/dev/null 2>&1 || { bad "import test city" "import failed"; exit 1; }

out=$("$G" rules --profile ningxia-2020 --set police.rounding=floor)
echo "$out" | grep -q "community.split_above *7000 *seed 000" && echo "$out" | grep -q "police.rounding *\"floor\" *override: --set" \
  && ok "rules prints values with sources and overrides" || bad "rules" "$out"

out=$("$G" check --db "$dir/t.sqlite" --json)
echo "$out" | grep -q '"code":"150102001001".*"status":"split","action":"split"' && echo "$out" | grep -q '"code":"150102001002".*"status":"under","action":"merge"' \
  && ok "check flags the split and the merge" || bad "check" "$out"

geom0=$(q "SELECT code, hex(geom) FROM communities ORDER BY code" | md5sum)
"$G" split 150102001001 --db "$dir/t.sqlite" >/dev/null
[ "$(q "SELECT count(*) FROM communities")" = 3 ] && ok "split preview writes nothing" || bad "split preview" "communities changed"

out=$("$G" split 150102001001 --db "$dir/t.sqlite" --apply --json)
[ "$(q "SELECT count(*) || ' ' || sum(households) FROM communities")" = "5 7000" ] \
  && [ "$(q "SELECT sum(households) FROM buildings WHERE community_code IN ('150102001001','150102001004','150102001005')")" = 5000 ] \
  && echo "$out" | grep -q '"applied":true' && echo "$out" | grep -q '"contiguous":true' \
  && ok "split --apply: 3 parts, households conserved, buildings reassigned" || bad "split apply" "$out"

area=$(q "SELECT abs(sum(ST_Area(geom)) - (SELECT 0.0003)) < 1e-12 FROM communities")
[ "$area" = 1 ] && ok "stored parts tile the original (area sum exact)" || bad "area sum" "$area"

"$G" police --db "$dir/t.sqlite" --format csv --out "$dir/police.csv"
[ "$(head -c 3 "$dir/police.csv" | od -An -tx1 | tr -d ' ')" = efbbbf ] && grep -q '^street,150102001' "$dir/police.csv" \
  && ok "police CSV has a BOM and street totals" || bad "police csv" "$(head -3 "$dir/police.csv")"

"$G" undo --db "$dir/t.sqlite" >/dev/null
[ "$(q "SELECT code, hex(geom) FROM communities ORDER BY code" | md5sum)" = "$geom0" ] \
  && [ "$(q "SELECT count(*) FROM buildings WHERE community_code = '150102001001'")" = 100 ] \
  && ok "undo restores byte-identical geometry and assignments" || bad "undo" "geometry differs"

q "UPDATE communities SET locked = 1 WHERE code = '150102001003'" >/dev/null
locked0=$(q "SELECT hex(geom), households FROM communities WHERE code = '150102001003'" | md5sum)
"$G" plan --db "$dir/t.sqlite" --out "$dir/plan.json" >/dev/null
out=$("$G" diff "$dir/plan.json" --db "$dir/t.sqlite")
echo "$out" | grep -q "167 buildings (3850 households) change community" \
  && ok "diff lists moved buildings and households" || bad "diff" "$out"
out=$("$G" plan --db "$dir/t.sqlite" --apply)
[ "$(q "SELECT hex(geom), households FROM communities WHERE code = '150102001003'" | md5sum)" = "$locked0" ] \
  && echo "$out" | grep -Eq "merge 150102001002 \(500 households\) into 15010200100[45]" \
  && ok "plan --apply merges into a split part, never into the locked community" || bad "plan apply" "$out"

"$G" grids --db "$dir/t.sqlite" --apply >/dev/null
res=$(q "SELECT count(*) = count(DISTINCT code) AND min(length(code)) = 15 AND sum(households) = 7000 FROM grids")
nulls=$(q "SELECT count(*) FROM buildings WHERE grid_code IS NULL OR substr(grid_code, 1, 12) <> community_code")
[ "$res" = 1 ] && [ "$nulls" = 0 ] && ok "grids --apply: unique 15-digit codes, every building in a grid of its community" \
  || bad "grids" "res=$res nulls=$nulls"
exit $fail
