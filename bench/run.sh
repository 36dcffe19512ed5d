#!/usr/bin/env bash
# `make bench`: runs every bench/<part>.sh in a fixed order and keeps their output in bench/work/.
# Each part prints its own table; numbers are measured here, never asserted. BENCH_PARTS="tiles ogcapi"
# runs a subset; BENCH_QUICK=1 asks each part for its short mode.
set -u
cd "$(dirname "$0")/.."
mkdir -p bench/work
parts=${BENCH_PARTS:-"import plan circles ogcapi tiles"}
status=0
for p in $parts; do
  script=bench/$p.sh
  if [ ! -x "$script" ]; then echo "bench: no $script"; status=1; continue; fi
  echo "=== bench: $p ($(date -u +%H:%M:%S))"
  "$script" 2>&1 | tee "bench/work/$p.txt"
  rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || { echo "bench: $p failed ($rc)"; status=1; }
done
exit $status
