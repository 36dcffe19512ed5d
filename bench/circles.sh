#!/usr/bin/env bash
# bench/circles.sh — service circles and coverage over the whole demo city: every circle type,
# straight-line and network mode, scale 1 and 4 (BENCH_QUICK=1: scale 1 only). Prints load time,
# compute time, whole-command wall time and peak RSS per run. Numbers are measured, never asserted.
# Input: the demo city's GeoJSON from `gridplan demo --scale S` (read directly by the circles commands;
# importing 120k buildings into SQLite takes minutes on a shared machine). With CIRCLES_DB=FILE the
# scale-1 runs read that database instead (e.g. geodata/demo.sqlite from `make demo`).
# DEMO_BIN may name another gridplan that has `demo` (the generator) when this one lacks it.
set -u
cd "$(dirname "$0")/.."
BIN=${GRIDPLAN:-build/gridplan}
DEMO_BIN=${DEMO_BIN:-$BIN}
scales=${CIRCLES_SCALES:-"1 4"}
[ -n "${BENCH_QUICK:-}" ] && scales=1
work=bench/work/circles
mkdir -p "$work"
unset GRIDPLAN_QUIET   # the load and compute times come from the log lines
if ! "$DEMO_BIN" demo --help >/dev/null 2>&1; then
  echo "bench circles: '$DEMO_BIN demo' is not available (the demo generator is needed); set DEMO_BIN"
  exit 1
fi

# Runs one command under /usr/bin/time (killed after CIRCLES_TIMEOUT seconds, default 300); prints
# "load compute wall peak_MB", or "timeout" / "FAILED".
measure() {
  local log=$1 rc; shift
  timeout "${CIRCLES_TIMEOUT:-300}" /usr/bin/time -f 'TIME %e %M' "$@" >/dev/null 2>"$log"; rc=$?
  [ $rc = 124 ] && { printf '%8s %9s %8s %8s' - - "timeout" -; return 0; }
  [ $rc = 0 ] || { echo "FAILED: $*"; tail -3 "$log"; return 1; }
  local load compute wall mem
  load=$(sed -n 's/^loaded .* in \([0-9.]*\) s .*/\1/p' "$log" | head -1)
  compute=$(sed -n 's/^\(coverage\|circles\) .* in \([0-9.]*\) s$/\2/p' "$log" | head -1)
  read -r wall mem <<<"$(sed -n 's/^TIME //p' "$log")"
  printf '%8s %9s %8s %8d' "${load:-?}" "${compute:-?}" "$wall" $((mem / 1024))
}

printf '%-6s %-9s %-22s %9s %10s %8s %9s %8s %8s\n' scale mode job buildings households load_s compute_s wall_s peak_MB
for s in $scales; do
  dir=$work/s$s
  if [ ! -s "$dir/roads.geojson" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    "$DEMO_BIN" demo --out "$dir" --scale "$s" >/dev/null 2>"$dir/demo.log" || { echo "demo --scale $s failed"; cat "$dir/demo.log"; exit 1; }
  fi
  src=(--facilities "$dir/facilities.geojson" --buildings "$dir/buildings.geojson" --communities "$dir/communities.geojson"
       --roads "$dir/roads.geojson")
  [ "$s" = 1 ] && [ -n "${CIRCLES_DB:-}" ] && src=(--db "$CIRCLES_DB")
  for mode in straight network; do
    "$BIN" coverage "${src[@]}" --mode $mode --format json --out "$dir/coverage_$mode.json" 2>/dev/null
    b=$(grep -o '"city":{"totals":{"buildings":[0-9]*' "$dir/coverage_$mode.json" | sed 's/.*://')
    h=$(grep -o '"city":{"totals":{"buildings":[0-9]*,"households":[0-9]*' "$dir/coverage_$mode.json" | sed 's/.*://')
    for job in "coverage (all circles)" "circles per type" "circles per community"; do
      case $job in
        coverage*) args=(coverage --format json --by both) ;;
        "circles per type") args=(circles --per type) ;;
        *) args=(circles --per community) ;;
      esac
      row=$(measure "$dir/time.log" "$BIN" "${args[@]}" "${src[@]}" --mode $mode --out "$dir/out.json") || { echo "$row"; exit 1; }
      printf '%-6s %-9s %-22s %9s %10s %s\n' "$s" "$mode" "$job" "$b" "$h" "$row"
    done
  done
done
echo "load_s: reading the input (GeoJSON or database) into the metric dataset; compute_s: the circles or coverage themselves"
echo "(coverage: every building against every circle; network: one capped Dijkstra per circle type)."
