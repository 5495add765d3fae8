#!/usr/bin/env bash
# The strom command and the example job, as a user runs them: help, errors with exit
# status 2, the benchmark's figures, and the example's output at 1 and 2 threads.
#   t0001-cli.sh BUILD_DIR
set -euo pipefail
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$build/strom" --help | grep -q "bench" || fail "--help does not list bench"
"$build/strom" version | grep -qE '^strom [0-9]+\.[0-9]+\.[0-9]+$' || fail "version"

set +e
"$build/strom" frobnicate 2>"$tmp/err"; rc=$?
set -e
[ $rc -eq 2 ] || fail "unknown command: exit $rc, want 2"
grep -q "unknown command 'frobnicate'" "$tmp/err" || fail "unknown command message"

set +e
"$build/strom" bench --events 12x 2>"$tmp/err"; rc=$?
set -e
[ $rc -eq 2 ] || fail "bad --events: exit $rc, want 2"
grep -q -- "--events: '12x'" "$tmp/err" || fail "bad --events message: $(cat "$tmp/err")"

"$build/strom" bench --events 2000000 --keys 1000 --threads 1,2 >"$tmp/bench"
grep -qE '^threads 1: 2000000 events in .* M events/s .* peak RSS [0-9.]+ MiB' "$tmp/bench" \
  || fail "bench output: $(cat "$tmp/bench")"
grep -qE '^threads 2: 2000000 events' "$tmp/bench" || fail "bench at 2 threads"

"$build/keyed_sum" 3000000 5000 1 "$tmp/one.csv" >/dev/null
"$build/keyed_sum" 3000000 5000 2 "$tmp/two.csv" >/dev/null
cmp -s "$tmp/one.csv" "$tmp/two.csv" || fail "keyed_sum differs between 1 and 2 threads"
# 3000 time units in windows of 1000: 3 windows x 5000 keys, and every value counted once
[ "$(wc -l <"$tmp/one.csv")" -eq 15000 ] || fail "keyed_sum rows: $(wc -l <"$tmp/one.csv")"
awk -F, '{s += $3; c += $4} END {exit !(c == 3000000 && s == 30000 * 4950)}' "$tmp/one.csv" \
  || fail "keyed_sum totals"
set +e
"$build/keyed_sum" 1000 10 1 "$tmp/no/such/dir.csv" 2>"$tmp/err"; rc=$?
set -e
[ $rc -ne 0 ] && grep -q "cannot create" "$tmp/err" || fail "unwritable output: $(cat "$tmp/err")"
echo "t0001-cli: ok"
