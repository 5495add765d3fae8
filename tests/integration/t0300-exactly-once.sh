#!/usr/bin/env bash
# Exactly-once: Q1 and Q2 on generated dirty data, checkpointing every 0.1 s.
#   1. 20 kill -9 at seeded random moments (scripts/crash-test): every output a prefix of
#      the uncrashed output after each kill, identical at the end, a second run a no-op.
#   2. Crashes at the hardest points (core/crash.h): after a snapshot blob, between a
#      complete checkpoint and its output commit, in the middle of appending output, and
#      right after a recovery: identical output.
#   3. The newest checkpoint damaged (a blob truncated, a manifest bit flipped): the
#      previous one is used, identical output.
#   4. A checkpoint of another input is refused; standard input is refused.
#   t0300-exactly-once.sh BUILD_DIR
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$here/../../scripts/crash-test" "$build" 20 1

"$build/strom" gen --houses 1 --hours 8 --seed 9 --dirty 0.01 --out "$tmp/in.csv" 2>/dev/null
"$build/strom" run debs14 --input "$tmp/in.csv" --out "$tmp/ref" --quiet
run() { # run [env...]: one run with checkpoints into $tmp/ck, output in $tmp/out
  env "$@" "$build/strom" run debs14 --input "$tmp/in.csv" --out "$tmp/out" --quiet \
    --checkpoint-dir "$tmp/ck" --checkpoint-interval 0.05 2>>"$tmp/log"
}
same() {
  for f in "$tmp/ref"/*.csv; do
    cmp -s "$f" "$tmp/out/$(basename "$f")" || fail "$1: $(basename "$f") differs"
  done
}

for point in ckpt-blob:3 ckpt-manifest:2 output-append:2 restored:1; do
  rm -rf "$tmp/out" "$tmp/ck"
  crashed=0
  if [ "${point%%:*}" = restored ]; then
    # a first crash leaves a checkpoint to restore from
    run STROM_CRASH_AT=ckpt-manifest:2 && fail "no crash at ckpt-manifest:2" || crashed=1
  fi
  run STROM_CRASH_AT="$point" && fail "no crash at $point (the run finished first)" || crashed=1
  [ "$crashed" = 1 ]
  run || fail "after a crash at $point: $(tail -n 2 "$tmp/log")"
  same "crash at $point"
done
echo "crash points: identical output after each"

# damage the newest checkpoint, then resume
for damage in truncate-blob flip-manifest; do
  rm -rf "$tmp/out" "$tmp/ck"
  run STROM_CRASH_AT=ckpt-manifest:3 && fail "no crash at ckpt-manifest:3 (the run finished first)"
  newest=$(ls -d "$tmp/ck"/ckpt-* | sort | tail -n 1)
  case $damage in
    truncate-blob)
      blob=$(ls "$newest"/q2plug.* | head -n 1)
      truncate -s $(( $(stat -c %s "$blob") / 2 )) "$blob" ;;
    flip-manifest)
      printf '\xff' | dd of="$newest/MANIFEST" bs=1 seek=40 conv=notrunc status=none ;;
  esac
  : >"$tmp/log"
  run || fail "after $damage: $(tail -n 2 "$tmp/log")"
  grep -q 'resuming from checkpoint 2' "$tmp/log" || fail "$damage: did not fall back to checkpoint 2: $(cat "$tmp/log")"
  same "$damage"
done
echo "damaged checkpoints: detected, the previous one used, identical output"

# another input with the same checkpoint directory: refused
rm -rf "$tmp/out" "$tmp/ck"
run STROM_CRASH_AT=ckpt-manifest:1 || true
"$build/strom" gen --houses 1 --hours 4 --seed 10 --out "$tmp/other.csv" 2>/dev/null
if "$build/strom" run debs14 --input "$tmp/other.csv" --out "$tmp/out2" --quiet \
  --checkpoint-dir "$tmp/ck" 2>"$tmp/err"; then
  fail "a checkpoint of another input was used"
fi
grep -q 'another job' "$tmp/err" || fail "unclear refusal: $(cat "$tmp/err")"
if "$build/strom" run debs14 --input - --out "$tmp/out3" --checkpoint-dir "$tmp/ck2" \
  <"$tmp/in.csv" 2>"$tmp/err"; then
  fail "checkpoints with standard input were accepted"
fi
grep -q 'standard input' "$tmp/err" || fail "unclear refusal: $(cat "$tmp/err")"
echo "foreign checkpoints and standard input: refused"
echo "t0300-exactly-once: ok"
