#!/usr/bin/env bash
# Runs every Criterion test binary given, prints each one's summary, and ends with one
# "N passed, N failed" line. Exit status is non-zero when anything failed or crashed.
set -u
passed=0; failed=0
mkdir -p tests/artifacts
for bin in "$@"; do
  name=$(basename "$bin")
  out=$("$bin" --jobs 2 2>&1); rc=$?
  synth=$(printf '%s\n' "$out" | grep -a 'Synthesis:' | tail -1)
  p=$(printf '%s' "$synth" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
  f=$(printf '%s' "$synth" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
  c=$(printf '%s' "$synth" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
  p=${p:-0}; f=${f:-0}; c=${c:-0}
  if [ -z "$synth" ] || [ $rc -ne 0 ] && [ $((f + c)) -eq 0 ]; then f=$((f + 1)); fi
  passed=$((passed + p)); failed=$((failed + f + c))
  if [ $((f + c)) -gt 0 ]; then
    printf '%s\n' "$out" | grep -a -v '^\[----\] Criterion' | tail -40
    echo "FAIL  $name: $p passed, $f failed, $c crashed"
  else
    echo "ok    $name: $p passed"
  fi
done
echo "unit: $passed passed, $failed failed"
[ $failed -eq 0 ]
