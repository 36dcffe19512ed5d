#!/usr/bin/env bash
# bench/plan.sh — auto-plan plus grid division of the whole demo city at scale 1 and scale 4, applied
# to a copy of the database: wall time, CPU time and peak memory of each step, and the quality
# figures the engine reports (household deviation, Polsby–Popper, contiguity, band misses).
# BENCH_QUICK=1: scale 1 only. PLAN_BENCH_DB_<scale>=FILE uses an existing database for that scale.
set -u
cd "$(dirname "$0")/.."
G=build/gridplan
work=bench/work/plan
mkdir -p "$work"
scales="1 4"
[ -n "${BENCH_QUICK:-}" ] && scales=1

make_db() {   # scale db
  local scale=$1 db=$2 var="PLAN_BENCH_DB_$1"
  if [ -n "${!var:-}" ]; then cp "${!var}" "$db"; return; fi
  if [ "$scale" = 1 ] && [ -f geodata/demo.sqlite ]; then cp geodata/demo.sqlite "$db"; return; fi
  "$G" demo --help >/dev/null 2>&1 || { echo "plan bench: this build has no 'gridplan demo' (merge the demo branch)"; return 1; }
  local dir=$work/demo-s$scale
  rm -f "$db"
  "$G" demo --out "$dir" --scale "$scale" >/dev/null || return 1
  for layer in streets communities buildings facilities roads; do
    GRIDPLAN_QUIET=1 "$G" import --db "$db" --create --layer $layer "$dir/$layer.geojson" >/dev/null || return 1
  done
}

printf '%-5s %6s %8s %6s %6s %8s %8s %7s | %7s %8s %8s %7s | %8s | %6s %6s %7s %7s %8s %5s\n' \
  scale comms blds splits merges plan_s plan_cpu plan_MB grids grids_s grid_cpu grid_MB total_s PPmean PPmin devmax devmean outside contig
status=0
for scale in $scales; do
  db=$work/plan-s$scale.sqlite
  rm -f "$db" "$db-wal" "$db-shm"
  make_db "$scale" "$db" || { status=1; continue; }
  comms=$(sqlite3 "$db" "SELECT count(*) FROM communities")
  blds=$(sqlite3 "$db" "SELECT count(*) FROM buildings")
  /usr/bin/time -f "%e %U %M" -o "$work/time-plan-s$scale" "$G" plan --db "$db" --apply --json >"$work/plan-s$scale.json" || status=1
  /usr/bin/time -f "%e %U %M" -o "$work/time-grids-s$scale" "$G" grids --db "$db" --apply --json >"$work/grids-s$scale.json" || status=1
  read -r pw pu pm <"$work/time-plan-s$scale"
  read -r gw gu gm <"$work/time-grids-s$scale"
  splits=$(jq '[.splits[] | select(.ok)] | length' "$work/plan-s$scale.json")
  merges=$(jq '[.merges[] | select(.ok)] | length' "$work/plan-s$scale.json")
  q=$(jq -r '.quality | "\(.parts) \(.polsby_popper_mean) \(.polsby_popper_min) \(.max_deviation) \(.mean_deviation) \(.outside_band)/\(.forced_by_building) \(.contiguous)"' "$work/grids-s$scale.json")
  read -r ngrids ppmean ppmin devmax devmean outside contig <<<"$q"
  total=$(echo "$pw + $gw" | bc)
  printf '%-5s %6s %8s %6s %6s %8s %8s %7d | %7s %8s %8s %7d | %8s | %6.3f %6.3f %7.3f %7.3f %8s %5s\n' \
    "$scale" "$comms" "$blds" "$splits" "$merges" "$pw" "$pu" $((pm / 1024)) "$ngrids" "$gw" "$gu" $((gm / 1024)) "$total" \
    "$ppmean" "$ppmin" "$devmax" "$devmean" "$outside" "$contig"
  jq -c '.quality' "$work/plan-s$scale.json" | sed "s/^/  scale $scale auto-plan split quality: /"
  echo "  scale $scale: $(jq '[.splits[], .merges[] | select(.ok | not)] | length' "$work/plan-s$scale.json") actions not possible (reasons in $work/plan-s$scale.json)"
done
echo "(times in seconds include writing the changes as one changeset; outside = grids outside the band / of which forced by one building)"
exit $status
