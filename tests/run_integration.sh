#!/usr/bin/env bash
# Runs every tests/it_*.sh with the gridplan binary as $1. Each script prints TAP-like lines
# ("ok - what" / "not ok - what: why"); this counts them and ends with "N passed, N failed".
set -u
bin=$(readlink -f "$1")
passed=0; failed=0
mkdir -p tests/artifacts
for t in tests/it_*.sh; do
  [ -e "$t" ] || continue
  name=$(basename "$t" .sh)
  log=tests/artifacts/$name.log
  GRIDPLAN="$bin" bash "$t" >"$log" 2>&1; rc=$?
  p=$(grep -c '^ok - ' "$log"); f=$(grep -c '^not ok - ' "$log")
  if [ $rc -ne 0 ] && [ $f -eq 0 ]; then f=1; echo "not ok - $name exited $rc" >>"$log"; fi
  passed=$((passed + p)); failed=$((failed + f))
  if [ $f -gt 0 ]; then grep '^not ok - ' "$log"; tail -15 "$log"; echo "FAIL  $name: $p passed, $f failed"
  else echo "ok    $name: $p passed"; fi
done
echo "integration: $passed passed, $failed failed"
[ $failed -eq 0 ]
