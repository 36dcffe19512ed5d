#!/usr/bin/env bash
# `make test`: unit tests, then integration tests; the last line is the total.
set -u
bin=$1; shift
u=$(mktemp); i=$(mktemp)
tests/run_unit.sh "$@" | tee "$u"; urc=${PIPESTATUS[0]}
tests/run_integration.sh "$bin" | tee "$i"; irc=${PIPESTATUS[0]}
up=$(tail -1 "$u" | sed -n 's/.* \([0-9]*\) passed, \([0-9]*\) failed/\1 \2/p')
ip=$(tail -1 "$i" | sed -n 's/.* \([0-9]*\) passed, \([0-9]*\) failed/\1 \2/p')
set -- $up $ip
rm -f "$u" "$i"
echo "$(( ${1:-0} + ${3:-0} )) passed, $(( ${2:-0} + ${4:-0} )) failed"
[ $urc -eq 0 ] && [ $irc -eq 0 ]
