#!/usr/bin/env bash
# Query 1 on the three real samples equals, byte for byte, an independent implementation
# written straight from the spec (q1_reference.py), at 1 and at 2 threads.
#   t0200-debs14-q1.sh BUILD_DIR
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
  for threads in 1 2; do
    out=$tmp/strom-$sample-$threads
    "$build/strom" run debs14 --input "$input" --out "$out" --threads "$threads" --quiet
    [ ! -s "$out/rejects.csv" ] || fail "$sample: rejects: $(head -3 "$out/rejects.csv")"
    for f in "$tmp/ref-$sample"/q1-*.csv; do
      name=$(basename "$f")
      [ -s "$f" ] || fail "$sample: the reference wrote nothing to $name"
      cmp -s "$f" "$out/$name" || fail "$sample, $threads threads: $name differs from the reference: $(diff "$f" "$out/$name" | head -5)"
    done
  done
  echo "$sample: 10 Q1 streams equal the reference ($(cat "$tmp/ref-$sample"/q1-*.csv | wc -l) rows)"
done
echo "t0200-debs14-q1: ok"
