#!/usr/bin/env bash
# The DEBS 2014 job (Q1 and Q2, dirty data) spread over 2 and 3 processes joined by Unix
# sockets (tests/tools/debs_procs.c): every output file, rejects included, is byte for byte
# that of `strom run` in one process.
#   t0400-debs14-processes.sh BUILD_DIR
set -euo pipefail
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$build/strom" gen --houses 1 --hours 8 --seed 3 --dirty 0.01 --out "$tmp/in.csv" 2>/dev/null
"$build/strom" run debs14 --input "$tmp/in.csv" --out "$tmp/ref" --threads 2 --quiet
for n in 2 3; do
  timeout 240 "$build/debs_procs" "$n" "$tmp/in.csv" "$tmp/out$n" 4 || fail "$n processes failed"
  for f in "$tmp/ref"/*.csv; do
    cmp -s "$f" "$tmp/out$n/$(basename "$f")" || fail "$n processes: $(basename "$f") differs"
  done
  echo "$n processes: $(ls "$tmp/ref" | wc -l) files identical to one process"
done
