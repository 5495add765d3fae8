#!/usr/bin/env bash
# A full disk under the checkpoints: `strom run` with its checkpoint directory on a small
# tmpfs (in a mount namespace of its own) that fills up as Q2's windows grow.
#   - the run stops with a clear error that names the file in the checkpoint directory
#     (a checkpoint's blob, or a sink's uncommitted rows) and the cause, exit 1;
#   - the output written so far is a prefix of the output of a run without checkpoints;
#   - every complete checkpoint left on the full disk is intact: the directory, copied to
#     a disk with room, resumes, and the output ends identical.
# Needs root (mount namespaces and tmpfs); without it, it says so and skips.
#   t0310-checkpoint-full-disk.sh BUILD_DIR
set -euo pipefail
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
  echo "SKIP: needs root for a tmpfs in a mount namespace"
  exit 0
fi

"$build/strom" gen --houses 1 --hours 6 --seed 4 --dirty 0.01 --out "$tmp/in.csv" 2>/dev/null
"$build/strom" run debs14 --input "$tmp/in.csv" --out "$tmp/ref" --quiet
run() { # run CKDIR: checkpoints every 0.05 s into CKDIR, output in $tmp/out
  "$build/strom" run debs14 --input "$tmp/in.csv" --out "$tmp/out" --quiet \
    --checkpoint-dir "$1" --checkpoint-interval 0.05
}

# The size of the last checkpoint of a whole run: the largest, Q2's windows being fullest.
run "$tmp/sizing" 2>/dev/null
last=$(ls -d "$tmp"/sizing/ckpt-* | tail -n 1)
size=$(du -sk "$last" | cut -f1)
rm -rf "$tmp/out" "$tmp/sizing"
# Three complete checkpoints are kept while the next is written: a disk of 2.5 last ones
# fills up once a checkpoint is past about 60% of the last one's size.
kb=$((size * 5 / 2 + 64))

unshare -m bash -c '
  set -eu
  mkdir "$1/small"
  mount -t tmpfs -o size="$2"k tmpfs "$1/small"
  rc=0
  "$3" run debs14 --input "$1/in.csv" --out "$1/out" --quiet \
    --checkpoint-dir "$1/small/ck" --checkpoint-interval 0.05 2>"$1/err" || rc=$?
  echo "$rc" >"$1/status"
  cp -a "$1/small/ck" "$1/ck" # what the full disk holds, before the namespace goes
' _ "$tmp" "$kb" "$build/strom"
status=$(cat "$tmp/status")
err=$(cat "$tmp/err")
[ "$status" = 1 ] || fail "exit status $status on a ${kb} KiB disk (checkpoints of ${size} KiB): $err"
echo "$err" | grep -q 'No space left on device' || fail "no clear error: $err"
echo "$err" | grep -q "$tmp/small/ck" || fail "the error does not name the full directory: $err"
for f in "$tmp/out"/*.csv; do
  n=$(stat -c %s "$f")
  cmp -s -n "$n" "$f" "$tmp/ref/$(basename "$f")" ||
    fail "after the full disk, $(basename "$f") is not a prefix of the reference"
done
ls -d "$tmp"/ck/ckpt-* >/dev/null 2>&1 || fail "no complete checkpoint before the disk filled up"

# The directory, moved to a disk with room, resumes from its newest complete checkpoint.
run "$tmp/ck" 2>"$tmp/err2" || fail "the run on the copy failed: $(cat "$tmp/err2")"
grep -q 'resuming from checkpoint' "$tmp/err2" || fail "the copy did not resume: $(cat "$tmp/err2")"
for f in "$tmp/ref"/*.csv; do
  cmp -s "$f" "$tmp/out/$(basename "$f")" || fail "$(basename "$f") differs after the resume"
done
echo "full disk (${kb} KiB): '$(echo "$err" | tail -n 1)'; resumed, output identical"
echo PASS
