#!/usr/bin/env bash
# bench/import.sh — how long `gridplan import` takes, and how much memory, on the demo city at
# scale 1 and 4 (printed, not asserted). Every layer is imported the way `make demo` does it, each
# under /usr/bin/time -v; the totals are wall seconds, CPU seconds (user + sys: wall time on a shared
# machine depends on its load, which is printed too) and the peak RSS of the largest import.
#
#   bench/import.sh                      scales 1 and 4
#   SCALES="1" bench/import.sh           only scale 1 (also what BENCH_QUICK=1 from make bench does)
#   GRIDPLAN=path/to/gridplan BENCH_WORK=dir bench/import.sh
set -u
G=${GRIDPLAN:-build/gridplan}
if [ "${BENCH_QUICK:-0}" = 1 ]; then scales=${SCALES:-1}; else scales=${SCALES:-1 4}; fi
work=${BENCH_WORK:-bench/work/import}
layers="streets communities buildings facilities roads"

if [ ! -x "$G" ]; then echo "bench/import.sh: $G not built (run make)" >&2; exit 2; fi
if ! "$G" demo --help >/dev/null 2>&1; then
  echo "bench/import.sh: '$G demo' is not in this tree yet (the demo generator comes from the demo branch);" \
       "no numbers without the demo city" >&2
  exit 2
fi
if [ ! -x /usr/bin/time ]; then echo "bench/import.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; fi
mkdir -p "$work"

# Seconds from /usr/bin/time's "h:mm:ss" or "m:ss.ss".
wall_seconds() { awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }'; }

printf 'machine: %s cores, load average %s\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-12s %9s %8s %8s %8s %9s\n' scale layer features MB wall_s cpu_s peak_MB
prev_cpu=""; prev_features=""
for s in $scales; do
  dir=$work/scale$s
  db=$work/scale$s.sqlite
  rm -rf "$dir"; rm -f "$db" "$db-wal" "$db-shm"
  if ! "$G" demo --out "$dir" --scale "$s" >"$work/demo.log" 2>&1; then
    echo "bench/import.sh: gridplan demo --scale $s failed:" >&2; tail -3 "$work/demo.log" >&2; exit 1
  fi
  tot_wall=0; tot_cpu=0; peak=0; tot_features=0; tot_mb=0
  for layer in $layers; do
    f=$dir/$layer.geojson
    [ -f "$f" ] || continue
    if ! GRIDPLAN_QUIET=1 /usr/bin/time -v -o "$work/time.txt" "$G" import --db "$db" --layer "$layer" "$f" >"$work/import.log" 2>&1; then
      echo "bench/import.sh: import of $f failed:" >&2; tail -5 "$work/import.log" >&2; exit 1
    fi
    wall=$(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$work/time.txt" | wall_seconds)
    cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$work/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$work/time.txt")
    n=$(sed -n 's/.*: imported \([0-9]*\) .*/\1/p' "$work/import.log")
    mb=$(du -m "$f" | cut -f1)
    printf '%-6s %-12s %9s %8s %8.2f %8s %9s\n' "$s" "$layer" "$n" "$mb" "$wall" "$cpu" "$rss"
    tot_wall=$(echo "$tot_wall + $wall" | bc); tot_cpu=$(echo "$tot_cpu + $cpu" | bc)
    tot_features=$((tot_features + n)); tot_mb=$((tot_mb + mb))
    [ "$rss" -gt "$peak" ] && peak=$rss
  done
  printf '%-6s %-12s %9s %8s %8.2f %8.2f %9s\n' "$s" TOTAL "$tot_features" "$tot_mb" "$tot_wall" "$tot_cpu" "$peak"
  if [ -n "$prev_cpu" ]; then
    printf 'scale %s vs previous: %.2fx the features, %.2fx the CPU time\n' "$s" \
      "$(echo "$tot_features / $prev_features" | bc -l)" "$(echo "$tot_cpu / $prev_cpu" | bc -l)"
  fi
  prev_cpu=$tot_cpu; prev_features=$tot_features
  "$G" info --db "$db" | sed -n 's/^households */households: /p'
done
printf 'aim: scale 1 under 15 s and 300 MB; cost no faster than the data. load average now %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
