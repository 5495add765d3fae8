#!/usr/bin/env bash
# Q1 and Q2 over two days, where Q1's history and Q2's window expiry both matter: the
# output equals, byte for byte, the independent reference implementations, at 1 and 2
# threads. Then generated dirty data: the same files at 1 and 2 threads, and exactly the
# injected malformed and late lines rejected.
#   t0210-debs14-days.sh BUILD_DIR
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Five plugs in three houses, a reading every 47 s for 50 hours, with a value that
# follows the time of day (so histories differ from day to day) and work rows between.
awk 'BEGIN {
  t0 = 1377986401; id = 0
  split("0 0 0|1 0 0|0 0 1|0 1 1|3 2 2", P, "|")
  for (t = t0; t < t0 + 50 * 3600; t += 47) {
    for (p = 1; p <= 5; p++) {
      split(P[p], f, " ")
      v = ((int(t / 600) * 7 + p * 13 + int((t - t0) / 86400) * 3) % 50) * 10 + (t % 3) * 0.5
      printf "%d,%d,%s,1,%d,%d,%d\n", ++id, t, v, f[1], f[2], f[3]
      printf "%d,%d,%d.%03d,0,%d,%d,%d\n", ++id, t, int(t / 100), t % 1000, f[1], f[2], f[3]
    }
  }
}' >"$tmp/days.csv"
mkdir -p "$tmp/ref"
python3 "$here/q1_reference.py" "$tmp/days.csv" "$tmp/ref"
python3 "$here/q2_reference.py" "$tmp/days.csv" "$tmp/ref"
for threads in 1 2; do
  "$build/strom" run debs14 --input "$tmp/days.csv" --out "$tmp/s$threads" --threads "$threads" --quiet
  for f in "$tmp/ref"/*.csv; do
    name=$(basename "$f")
    [ -s "$f" ] || fail "the reference wrote nothing to $name"
    cmp -s "$f" "$tmp/s$threads/$name" || fail "two days, $threads threads: $name differs: $(diff "$f" "$tmp/s$threads/$name" | head -4)"
  done
done
echo "two days: the 12 streams equal the references ($(cat "$tmp/ref"/*.csv | wc -l) rows)"

# generated dirty data
"$build/strom" gen --houses 2 --hours 3 --seed 11 --dirty 0.01 --out "$tmp/gen.csv" 2>"$tmp/gen.err"
injected=$(sed -n 's/.*malformed=\([0-9]*\) late=\([0-9]*\).*/\1 \2/p' "$tmp/gen.err" | awk '{print $1 + $2}')
[ -n "$injected" ] && [ "$injected" -gt 0 ] || fail "gen printed no dirty counts: $(cat "$tmp/gen.err")"
for threads in 1 2; do
  "$build/strom" run debs14 --input "$tmp/gen.csv" --out "$tmp/g$threads" --threads "$threads" --quiet
done
for f in "$tmp/g1"/*.csv; do
  cmp -s "$f" "$tmp/g2/$(basename "$f")" || fail "generated data: $(basename "$f") differs between 1 and 2 threads"
done
rejected=$(wc -l <"$tmp/g1/rejects.csv")
[ "$rejected" -eq "$injected" ] || fail "rejected $rejected lines, gen injected $injected malformed and late"
echo "generated: $rejected rejects = the injected malformed and late lines; same files at 1 and 2 threads"
echo "t0210-debs14-days: ok"
