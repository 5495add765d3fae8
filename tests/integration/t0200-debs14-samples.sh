#!/usr/bin/env bash
# Queries 1 and 2 on the three real samples equal, byte for byte, independent
# implementations written straight from the spec (q1_reference.py, q2_reference.py), at 1
# and at 2 threads.
#   t0200-debs14-samples.sh BUILD_DIR
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
shared=${STROM_SHARED:-$here/../../../shared}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for sample in sorted-first-10000 houses-0-9-first-84s plug-0-0-11-first-2.8h; do
  input=$shared/data/debs14/$sample.csv
  [ -r "$input" ] || fail "missing sample $input"
  mkdir -p "$tmp/ref-$sample"
  python3 "$here/q1_reference.py" "$input" "$tmp/ref-$sample"
  python3 "$here/q2_reference.py" "$input" "$tmp/ref-$sample"
  for threads in 1 2; do
    out=$tmp/strom-$sample-$threads
    "$build/strom" run debs14 --input "$input" --out "$out" --threads "$threads" --quiet
    [ ! -s "$out/rejects.csv" ] || fail "$sample: rejects: $(head -3 "$out/rejects.csv")"
    for f in "$tmp/ref-$sample"/q*.csv; do
      name=$(basename "$f")
      [ -s "$f" ] || fail "$sample: the reference wrote nothing to $name"
      cmp -s "$f" "$out/$name" || fail "$sample, $threads threads: $name differs from the reference: $(diff "$f" "$out/$name" | head -5)"
    done
  done
  echo "$sample: the 12 streams equal the references ($(cat "$tmp/ref-$sample"/q*.csv | wc -l) rows)"
done
echo "t0200-debs14-samples: ok"
