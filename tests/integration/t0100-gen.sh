#!/usr/bin/env bash
# strom gen as a user runs it: the same arguments give the same bytes (file or stdout),
# the dirty counts printed on stderr match what a reader written here in awk from the
# spec's grammar and late rule rejects, bad usage exits 2 with a message, and an
# unwritable output exits 1 with the path and the system's reason.
#   t0100-gen.sh BUILD_DIR
set -euo pipefail
build=$1
strom=$build/strom
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$strom" --help | grep -q '^  gen ' || fail "strom --help does not list gen"
"$strom" gen --help | grep -q -- '--houses H' || fail "strom gen --help"

# --- determinism ----------------------------------------------------------------------
"$strom" gen --houses 3 --hours 1 --seed 5 --out "$tmp/a.csv" 2>"$tmp/a.err"
"$strom" gen --houses 3 --hours 1 --seed 5 --out "$tmp/b.csv" 2>/dev/null
"$strom" gen --seed 5 --hours 1 --houses 3 >"$tmp/c.csv" 2>"$tmp/c.err"
"$strom" gen --houses 3 --hours 1 --seed 6 --out "$tmp/d.csv" 2>/dev/null
cmp -s "$tmp/a.csv" "$tmp/b.csv" || fail "same arguments, different bytes"
cmp -s "$tmp/a.csv" "$tmp/c.csv" || fail "stdout differs from --out"
cmp -s "$tmp/a.csv" "$tmp/d.csv" && fail "seeds 5 and 6 gave the same bytes"
[ -s "$tmp/c.err" ] && fail "stderr not quiet when writing to stdout: $(cat "$tmp/c.err")"
grep -qE '^gen: [0-9]+ rows, [0-9]+ bytes, 3 houses, 159 plugs' "$tmp/a.err" \
  || fail "summary: $(cat "$tmp/a.err")"
rows=$(sed -nE 's/^gen: ([0-9]+) rows.*/\1/p' "$tmp/a.err")
[ "$rows" -eq "$(wc -l <"$tmp/a.csv")" ] || fail "summary says $rows rows"
head -1 "$tmp/a.csv" | grep -qE '^1,1377986401,[0-9.]+,[01],[0-9]+,[0-9]+,[0-9]+$' \
  || fail "first line: $(head -1 "$tmp/a.csv")"
"$strom" gen --houses 1 --hours 1 --seed 1 --start 1400000000 --out "$tmp/s.csv" 2>/dev/null
[ "$(head -1 "$tmp/s.csv" | cut -d, -f2)" = 1400000000 ] || fail "--start"
# --dirty 0 is the clean data, with the counts line
"$strom" gen --houses 3 --hours 1 --seed 5 --dirty 0 --out "$tmp/z.csv" 2>"$tmp/z.err"
cmp -s "$tmp/a.csv" "$tmp/z.csv" || fail "--dirty 0 changed the data"
grep -qx 'gen: dirty: duplicates=0 malformed=0 late=0 gaps=0' "$tmp/z.err" \
  || fail "--dirty 0 counts: $(cat "$tmp/z.err")"

# --- dirty data against an independent reader -------------------------------------------
"$strom" gen --houses 2 --hours 4 --seed 9 --dirty 0.01 --out "$tmp/x.csv" 2>"$tmp/x.err"
"$strom" gen --houses 2 --hours 4 --seed 9 --dirty 0.01 >"$tmp/y.csv" 2>"$tmp/y.err"
cmp -s "$tmp/x.csv" "$tmp/y.csv" || fail "dirty data not deterministic"
grep -q '^gen: dirty: ' "$tmp/y.err" || fail "no dirty counts when writing to stdout"
counts=$(grep '^gen: dirty: ' "$tmp/x.err") || fail "no dirty counts: $(cat "$tmp/x.err")"
[[ $counts =~ ^gen:\ dirty:\ duplicates=([0-9]+)\ malformed=([0-9]+)\ late=([0-9]+)\ gaps=([0-9]+)$ ]] \
  || fail "dirty counts line: $counts"
dup=${BASH_REMATCH[1]} mal=${BASH_REMATCH[2]} late=${BASH_REMATCH[3]} gaps=${BASH_REMATCH[4]}
[ "$dup" -gt 0 ] && [ "$mal" -gt 0 ] && [ "$late" -gt 0 ] && [ "$gaps" -gt 0 ] \
  || fail "a kind is missing: $counts"
grep -qE '^gen: malformed: fields=[1-9][0-9]* empty=[1-9][0-9]* nondigit=[1-9][0-9]* range=[1-9][0-9]* value=[1-9][0-9]* property=[1-9][0-9]*$' \
  "$tmp/x.err" || fail "malformed kinds: $(cat "$tmp/x.err")"

# The spec: 7 fields; id, timestamp, property, keys: digits, < 2^32; value: digits, then
# optionally a point and 1..3 digits; property 0 or 1; a CR before LF ignored. Late: the
# timestamp is below the largest one accepted before. Prints rejects, duplicates (same
# plug, property and second as the plug's last accepted row), gaps (>= 120 s between
# accepted rows) and accepted lines whose id is not their line number.
read -r rej dups seen_gaps badid < <(awk '
function u32(s) {
    if (s !~ /^[0-9]+$/) return 0
    sub(/^0+/, "", s)
    return length(s) < 10 || (length(s) == 10 && s <= "4294967295")
}
BEGIN { max = -1 }
{
    line = $0
    sub(/\r$/, "", line)
    n = split(line, f, ",")
    if (n != 7 || !u32(f[1]) || !u32(f[2]) || !u32(f[4]) || f[4] + 0 > 1 || !u32(f[5]) ||
        !u32(f[6]) || !u32(f[7]) ||
        f[3] !~ /^[0-9]+(\.[0-9]|\.[0-9][0-9]|\.[0-9][0-9][0-9])?$/) { rej++; next }
    ts = f[2] + 0
    if (ts < max) { rej++; next }
    if (max >= 0 && ts - max >= 120) gaps++
    max = ts
    if (f[1] + 0 != NR) badid++
    k = f[5] "," f[6] "," f[7] "," f[4] + 0
    if (k in last && last[k] == ts) dups++
    last[k] = ts
}
END { print rej + 0, dups + 0, gaps + 0, badid + 0 }' "$tmp/x.csv")
[ "$rej" -eq $((mal + late)) ] || fail "reader rejects $rej lines, gen says malformed $mal + late $late"
[ "$dups" -eq "$dup" ] || fail "reader sees $dups duplicates, gen says $dup"
[ "$seen_gaps" -le "$gaps" ] && [ "$seen_gaps" -ge $((gaps - 2)) ] \
  || fail "reader sees $seen_gaps gaps, gen says $gaps"
[ "$badid" -eq 0 ] || fail "$badid accepted lines have an id other than their line number"

# --- usage errors: exit 2 and a message -------------------------------------------------
usage() { # usage WANTED_TEXT ARGS...
  local want=$1 rc
  shift
  set +e
  "$strom" gen "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  set -e
  [ $rc -eq 2 ] || fail "gen $*: exit $rc, want 2"
  grep -q -e "$want" "$tmp/err" || fail "gen $*: message '$(cat "$tmp/err")' lacks '$want'"
  [ -s "$tmp/out" ] && fail "gen $*: wrote data"
  return 0
}
usage "unrecognized option" --houses 1 --days 1 --seed 1 --bogus
usage "requires an argument" --houses 1 --days 1 --seed
usage "--houses" --houses 0 --days 1 --seed 1
usage "--houses" --houses 10001 --days 1 --seed 1
usage "--houses" --houses 4x --days 1 --seed 1
usage "--days" --houses 1 --days 0 --seed 1
usage "--days" --houses 1 --days -1 --seed 1
usage "--dirty" --houses 1 --days 1 --seed 1 --dirty 1
usage "--dirty" --houses 1 --days 1 --seed 1 --dirty -0.1
usage "--dirty" --houses 1 --days 1 --seed 1 --dirty abc
usage "--dirty" --houses 1 --days 1 --seed 1 --dirty nan
usage "--dirty" --houses 1 --days 1 --seed 1 --dirty ""
usage "--seed is required" --houses 1 --days 1
usage "--houses is required" --days 1 --seed 1
usage "--days or --hours is required" --houses 1 --seed 1
usage "--start" --houses 1 --days 1 --seed 1 --start 0
usage "32-bit" --houses 1 --days 2 --seed 1 --start 4294900000
usage "unexpected argument" --houses 1 --days 1 --seed 1 extra

# --- unwritable output: exit 1, the path and the reason ---------------------------------
set +e
"$strom" gen --houses 1 --hours 1 --seed 1 --out "$tmp/no/such/dir/x.csv" 2>"$tmp/err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "unwritable path: exit $rc, want 1"
grep -qF "$tmp/no/such/dir/x.csv" "$tmp/err" && grep -q "No such file or directory" "$tmp/err" \
  || fail "unwritable path message: $(cat "$tmp/err")"
if [ -w /dev/full ]; then
  set +e
  "$strom" gen --houses 1 --hours 1 --seed 1 --out /dev/full 2>"$tmp/err"
  rc=$?
  set -e
  [ $rc -eq 1 ] || fail "/dev/full: exit $rc, want 1"
  grep -q "/dev/full.*No space left on device" "$tmp/err" || fail "/dev/full: $(cat "$tmp/err")"
fi
echo "t0100-gen: ok"
