#!/usr/bin/env bash
# The DEBS 2014 job (Q1 and Q2, dirty data) spread over 2 and 3 processes joined by Unix
# sockets (tests/tools/debs_procs.c): every output file, rejects included, is byte for byte
# that of `strom run` in one process. Then exactly-once on 3 processes: checkpoints into
# one shared directory, every process killed (kill -9) right after the first complete
# checkpoint, the 3 processes run again: each resumes, and the output is still that of one
# process; a third run finds the job finished and does nothing.
#   t0400-debs14-processes.sh BUILD_DIR
set -euo pipefail
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$build/strom" gen --houses 1 --hours 8 --seed 3 --dirty 0.01 --out "$tmp/in.csv" 2>/dev/null
"$build/strom" run debs14 --input "$tmp/in.csv" --out "$tmp/ref" --threads 2 --quiet
same() { # same DIR WHAT [REF]: every file of the reference, identical in DIR
  for f in "${3:-$tmp/ref}"/*.csv; do
    cmp -s "$f" "$1/$(basename "$f")" || fail "$2: $(basename "$f") differs"
  done
}
for n in 2 3; do
  timeout 240 "$build/debs_procs" "$n" "$tmp/in.csv" "$tmp/out$n" 4 || fail "$n processes failed"
  same "$tmp/out$n" "$n processes"
  echo "$n processes: $(ls "$tmp/ref" | wc -l) files identical to one process"
done

# half the hours: checkpoints slow a distributed run down (alignment across processes)
"$build/strom" gen --houses 1 --hours 4 --seed 5 --dirty 0.01 --out "$tmp/in4.csv" 2>/dev/null
"$build/strom" run debs14 --input "$tmp/in4.csv" --out "$tmp/ref4" --threads 2 --quiet
ck=$tmp/ck
st=0
timeout 120 "$build/debs_procs" -c "$ck" -i 0.05 -k 3 "$tmp/in4.csv" "$tmp/outck" 4 \
  2>"$tmp/log1" || st=$?
[ "$st" = 3 ] || fail "3 processes with checkpoints: not killed after a complete checkpoint (status $st): $(tail -n 3 "$tmp/log1")"
timeout 240 "$build/debs_procs" -c "$ck" -i 0.5 3 "$tmp/in4.csv" "$tmp/outck" 4 2>"$tmp/log2" ||
  fail "3 processes resumed: $(tail -n 3 "$tmp/log2")"
for p in 0 1 2; do
  grep -q "^process $p: resuming from checkpoint" "$tmp/log2" ||
    fail "process $p did not resume: $(head -n 5 "$tmp/log2")"
done
same "$tmp/outck" "killed after a checkpoint and resumed" "$tmp/ref4"
timeout 60 "$build/debs_procs" -c "$ck" 3 "$tmp/in4.csv" "$tmp/outck" 4 2>"$tmp/log3" ||
  fail "3 processes after the end: $(tail -n 3 "$tmp/log3")"
[ "$(grep -c 'finished before: nothing to do' "$tmp/log3")" = 3 ] ||
  fail "a process ran the finished job again: $(cat "$tmp/log3")"
same "$tmp/outck" "run again after the end" "$tmp/ref4"
echo "3 processes, killed after a checkpoint and resumed: identical to one process; then a no-op"
