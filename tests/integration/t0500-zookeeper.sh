#!/usr/bin/env bash
# The ZooKeeper side of the cluster mode (src/cluster/) against a real ZooKeeper server,
# started for this test alone on 127.0.0.1 (tests/integration/lib/zookeeper.sh) and always
# stopped. The checks are build/zk_check's subcommands (tests/tools/zk_check.c):
#   1. SHA-1 vectors; our digest identity is the one the server computes itself.
#   2. Connecting where nothing listens fails with a clear error, bounded by the timeout.
#   3. create/get/set/CAS conflict/delete/children/exists/watches, versioned records.
#   4. ACL: no auth, a guessed password and a wrong secret are refused reading and writing
#      the job, the assignment, the workers and the election, and cannot delete them.
#   5. A chroot path is created with strom's ACL and works.
#   6. An expired session is reported to the process (and the election says "lost").
#   7. An ephemeral znode disappears after kill -9 of its process (session timeout), at
#      once after a clean exit.
#   8. Election among 3 processes: exactly one leader; a non-leader's death (kill -9) leaves
#      the leader in place; the leader's death makes another leader within a bounded time.
#   9. Membership: joins and leaves (kill -9 and clean) seen by a watcher; a live name
#      cannot be taken twice.
#  10. ZooKeeper crashes and restarts: the leader is suspended meanwhile and leads again
#      (its session survived), ephemerals stay.
#   t0500-zookeeper.sh BUILD_DIR
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
zkc=$build/zk_check
# a foreground check that hangs must not hang the test: bounded, then killed
zkrun() { timeout -k 5 60 "$zkc" "$@"; }
# shellcheck source=lib/zookeeper.sh
. "$here/lib/zookeeper.sh"

bg_pids=()
cleanup() {
  local p
  for p in "${bg_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${bg_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  zk_stop
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
  echo "FAIL: $*" >&2
  zk_log_tail 20
  exit 1
}
t_start=$SECONDS

# wait_for FILE REGEX SECS: until a line of FILE matches (grep -E), at most SECS
wait_for() {
  local end=$((SECONDS + $3))
  until grep -qE "$2" "$1" 2>/dev/null; do
    [ $SECONDS -lt "$end" ] || return 1
    sleep 0.05
  done
}
# start NAME ARGS...: zk_check ARGS in the background, output in $tmp/NAME.out; sets $pid
start() {
  local name=$1
  shift
  "$zkc" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pid=$!
  bg_pids+=("$pid")
}
# stop_clean PID NAME: SIGTERM, and the process must exit 0 (sanitizers: no leak)
stop_clean() {
  local rc=0
  kill -TERM "$1"
  wait "$1" || rc=$?
  [ $rc -eq 0 ] || fail "$2 exited $rc after SIGTERM: $(tail -n 20 "$tmp/$2.err")"
}
kill9() {
  kill -9 "$1"
  wait "$1" 2>/dev/null || true
}

# 1. SHA-1, and the digest identity as the server computes it
zkrun sha1
ours=$(zkrun digest strom:some-password)
theirs=$(java -cp "$ZK_CLASSPATH" org.apache.zookeeper.server.auth.DigestAuthenticationProvider \
  strom:some-password 2>/dev/null | sed -n 's/^strom:some-password->//p')
[ -n "$theirs" ] || fail "no digest from ZooKeeper's DigestAuthenticationProvider"
[ "$ours" = "$theirs" ] || fail "digest identity: ours $ours, ZooKeeper's $theirs"
echo "digest: $ours, as ZooKeeper computes it"

# 2. nothing listening: a port found free, a 1.5 s timeout
for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  zk_port_free "$port" && break
done
zkrun noserver "127.0.0.1:$port" 1500 2>"$tmp/noserver.err" \
  || fail "noserver: $(cat "$tmp/noserver.err")"
grep -q "127.0.0.1:$port within 1500 ms" "$tmp/noserver.err" \
  || fail "noserver: unclear message: $(cat "$tmp/noserver.err")"

zk_start "$tmp/zk"
echo "ZooKeeper at $ZK (pid $ZK_PID), up after $((SECONDS - t_start)) s"

# 3-5. in one process each
zkrun basic "$ZK"
zkrun acl "$ZK"
zkrun chroot "$ZK"
# 6. a process paused (SIGSTOP) for longer than its session timeout finds it expired
start expiry expiry "$ZK"
wait_for "$tmp/expiry.out" '^ready$' 10 || fail "expiry: $(cat "$tmp/expiry.err")"
kill -STOP "$pid"
sleep 2.5
kill -CONT "$pid"
rc=0
wait "$pid" || rc=$?
[ $rc -eq 0 ] || fail "expiry: exit $rc: $(grep -v '^zookeeper: ' "$tmp/expiry.err" | tail -n 20)"
tail -n 1 "$tmp/expiry.out"

# 7. ephemeral znodes: kill -9 -> gone after the session timeout (1 s); clean exit -> at once
start hold hold "$ZK" /held
hold=$pid
wait_for "$tmp/hold.out" '^held /held' 10 || fail "hold: $(cat "$tmp/hold.err")"
if zkrun wait-gone "$ZK" /held 0.5 >/dev/null 2>&1; then
  fail "/held is gone while its process lives"
fi
kill9 "$hold"
zkrun wait-gone "$ZK" /held 5 >"$tmp/gone.out" || fail "/held still there 5 s after kill -9"
echo "ephemeral after kill -9: $(cat "$tmp/gone.out")"
start hold2 hold "$ZK" /held2
hold2=$pid
wait_for "$tmp/hold2.out" '^held /held2' 10 || fail "hold2: $(cat "$tmp/hold2.err")"
stop_clean "$hold2" hold2
zkrun wait-gone "$ZK" /held2 0.3 >/dev/null || fail "/held2 still there after a clean exit"

# 8. election among c1, c2, c3 (joined in that order: c1 has the lowest number); each
# watches its predecessor only (no herd effect)
declare -A cand znode
for c in c1 c2 c3; do
  start "$c" elect "$ZK" "$c"
  cand[$c]=$pid
  wait_for "$tmp/$c.out" "^$c joined" 10 || fail "$c did not join: $(cat "$tmp/$c.err")"
  znode[$c]=$(sed -n "s/^$c joined //p" "$tmp/$c.out")
done
wait_for "$tmp/c1.out" '^c1 leader$' 5 || fail "c1 (the first candidate) does not lead"
sleep 0.3
grep -qx "c2 waiting ${znode[c1]}" "$tmp/c2.out" || fail "c2 does not watch c1: $(cat "$tmp/c2.out")"
grep -qx "c3 waiting ${znode[c2]}" "$tmp/c3.out" || fail "c3 does not watch c2: $(cat "$tmp/c3.out")"
leaders() { # the candidates whose latest event is "leader"
  local c
  for c in "$@"; do
    [ "$(grep -E "^$c (leader|suspended|lost)$" "$tmp/$c.out" | tail -n 1)" = "$c leader" ] \
      && echo "$c"
  done
  return 0
}
[ "$(leaders c1 c2 c3)" = c1 ] || fail "leaders: $(leaders c1 c2 c3 | tr '\n' ' '), want c1 only"
[ "$(zkrun leader "$ZK" | cut -d' ' -f1)" = c1 ] || fail "the leader's record is not c1's"
# a non-leader dies: the leader stays
kill9 "${cand[c2]}"
# once c2's session has expired (1 s), its znode is gone and c3 watches c1
wait_for "$tmp/c3.out" "^c3 waiting ${znode[c1]}\$" 10 \
  || fail "c3 does not watch c1 after c2's death: $(cat "$tmp/c3.out")"
sleep 0.3
[ "$(leaders c1 c3)" = c1 ] || fail "after c2's death: leaders $(leaders c1 c3 | tr '\n' ' ')"
[ "$(grep -c . "$tmp/c1.out")" = 2 ] || fail "c1 saw events after c2's death: $(cat "$tmp/c1.out")"
[ "$(zkrun leader "$ZK" | cut -d' ' -f1)" = c1 ] || fail "the leader changed after c2's death"
# the leader dies: c3 leads within the session timeout and a little more
t0=$(date +%s%N)
kill9 "${cand[c1]}"
wait_for "$tmp/c3.out" '^c3 leader$' 10 || fail "c3 did not lead within 10 s of c1's death"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$(leaders c3)" = c3 ] || fail "c3 is not leading"
[ "$(zkrun leader "$ZK" | cut -d' ' -f1)" = c3 ] || fail "the leader's record is not c3's"
echo "election: one leader of 3; a follower's death left it; the leader's death -> c3 leads after $ms ms"
stop_clean "${cand[c3]}" c3
[ "$(zkrun leader "$ZK")" = none ] || fail "a candidate is left after the last one resigned"

# 9. membership
start watch members-watch "$ZK"
watch=$pid
wait_for "$tmp/watch.out" '^now 0$' 10 || fail "members-watch: $(cat "$tmp/watch.err")"
start w1 member "$ZK" w1
w1=$pid
start w2 member "$ZK" w2
w2=$pid
wait_for "$tmp/w1.out" '^registered w1' 10 || fail "w1: $(cat "$tmp/w1.err")"
wait_for "$tmp/w2.out" '^registered w2' 10 || fail "w2: $(cat "$tmp/w2.err")"
wait_for "$tmp/watch.out" '^join w1 tcp://127.0.0.1:[0-9]+ key$' 5 || fail "join of w1 not seen"
wait_for "$tmp/watch.out" '^join w2 tcp://' 5 || fail "join of w2 not seen"
[ "$(zkrun members "$ZK" | cut -d' ' -f1 | tr '\n' ' ')" = "w1 w2 " ] || fail "members list"
if zkrun member "$ZK" w2 >/dev/null 2>"$tmp/dup.err"; then
  fail "a second w2 registered"
fi
grep -q 'w2 is taken' "$tmp/dup.err" || fail "duplicate name: $(cat "$tmp/dup.err")"
kill9 "$w1"
wait_for "$tmp/watch.out" '^leave w1$' 5 || fail "leave of w1 (kill -9) not seen"
stop_clean "$w2" w2
wait_for "$tmp/watch.out" '^leave w2$' 2 || fail "leave of w2 (clean exit) not seen"
sleep 0.2
[ "$(tail -n 1 "$tmp/watch.out")" = "now 0" ] || fail "the last report is not empty: $(cat "$tmp/watch.out")"
stop_clean "$watch" watch
echo "membership: joins, a kill -9 and a clean leave seen; a live name not taken twice"

# 10. ZooKeeper itself crashes and restarts (same port and data) within the session
# timeout (4 s here): the leader is suspended while it is away, leads again after, and a
# worker's ephemeral znode survives
ZK_CHECK_SESSION_MS=4000 start s1 elect "$ZK" s1
s1=$pid
ZK_CHECK_SESSION_MS=4000 start w3 member "$ZK" w3
w3=$pid
wait_for "$tmp/s1.out" '^s1 leader$' 10 || fail "s1 does not lead: $(cat "$tmp/s1.err")"
wait_for "$tmp/w3.out" '^registered w3' 10 || fail "w3: $(cat "$tmp/w3.err")"
t0=$(date +%s%N)
zk_restart || fail "ZooKeeper did not restart"
wait_for "$tmp/s1.out" '^s1 suspended$' 5 || fail "s1 was not suspended: $(cat "$tmp/s1.out")"
end=$((SECONDS + 8))
until [ "$(grep -c '^s1 leader$' "$tmp/s1.out")" -ge 2 ]; do
  [ $SECONDS -lt $end ] || fail "s1 did not lead again after the restart: $(cat "$tmp/s1.out")"
  sleep 0.05
done
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$(tail -n 1 "$tmp/s1.out")" = "s1 leader" ] || fail "s1: $(cat "$tmp/s1.out")"
[ "$(zkrun members "$ZK" | cut -d' ' -f1)" = w3 ] || fail "w3 lost its registration in the restart"
stop_clean "$s1" s1
stop_clean "$w3" w3
echo "ZooKeeper restart: the leader suspended, leading again $ms ms after the crash; ephemerals kept"

zk_stop
echo "t0500: all ZooKeeper checks passed in $((SECONDS - t_start)) s"
