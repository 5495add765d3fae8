#!/usr/bin/env bash
# Cluster mode end to end: a real ZooKeeper server on loopback (lib/zookeeper.sh), two
# `strom coordinator`s and three `strom worker`s as separate processes, jobs given with
# `strom submit`. Every run's output must be byte for byte that of `strom run` on one
# machine.
#   1. The DEBS job (Q1 and Q2, dirty data, checkpoints) on 3 workers; `strom status`.
#   2. kill -9 of the worker that reads the input and writes the output, mid-run: the
#      survivors take over from the last complete checkpoint.
#   3. kill -9 of the elected coordinator mid-run: the standby takes over.
#   4. Outsiders: another cluster's keys cannot submit, read the status, register a worker
#      or touch the znodes directly (zk_check outsider); a key not on the allowlist cannot
#      inject a batch into a worker's channels (net_poke), even under a worker's name, and
#      a worker registered with the secret but an unknown key gets no work.
#   5. A relay between the workers flips one bit in flight: the frame is refused (CURVE:
#      the receiving worker drops the connection), nothing altered is delivered, and the
#      output is still identical (the run resumes from its last checkpoint if the link
#      does not come back in time).
#   t0510-cluster.sh BUILD_DIR
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
strom=$build/strom
# shellcheck source=lib/zookeeper.sh
. "$here/lib/zookeeper.sh"
# shellcheck source=lib/cluster.sh
. "$here/lib/cluster.sh"
# STROM_KEEP_TMP=1 keeps the logs and files for a look afterwards
trap 'cluster_cleanup; [ -n "${STROM_KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
t_start=$SECONDS


"$strom" gen --houses 1 --hours 5 --seed 5 --dirty 0.01 --out "$tmp/in.csv" 2>/dev/null
"$strom" run debs14 --input "$tmp/in.csv" --out "$tmp/ref" --threads 2 --quiet
for n in w1 w2 w3 c1 c2 user; do "$strom" keygen "$tmp/keys" "$n" >/dev/null; done
"$strom" keygen "$tmp/evekeys" eve >/dev/null # another cluster: its own secret
zk_start "$tmp/zk"
Z=(--zk "$ZK" --keys "$tmp/keys")
S=(--session-timeout 2000)
echo "ZooKeeper at $ZK, up after $((SECONDS - t_start)) s"
job=(debs14 --input "$tmp/in.csv" --threads 2 --checkpoint-interval 0.3)

start_coordinator c1
wait_for "$tmp/c1.log" "elected" 20 || fail "c1 not elected"
start_coordinator c2
for w in w1 w2 w3; do start_worker "$w" "${S[@]}"; done
for w in w1 w2 w3; do wait_for "$tmp/$w.log" "registered" 20 || fail "$w did not register"; done

# 1. three workers
t=$SECONDS
submit_bg s1 --name user -- "${job[@]}" --out "$tmp/out1" --checkpoint-dir "$tmp/ck1"
submit_wait s1
same_output "$tmp/out1" "3 workers"
grep -q "finished" "$tmp/s1.out" || fail "submit printed no end: $(cat "$tmp/s1.out")"
"$strom" status "${Z[@]}" >"$tmp/status1"
grep -q "^workers: 3" "$tmp/status1" || fail "status: $(cat "$tmp/status1")"
grep -q "^assignment: epoch [0-9]*, finished" "$tmp/status1" || fail "status: $(cat "$tmp/status1")"
grep -q "process 2: w3" "$tmp/status1" || fail "status: $(cat "$tmp/status1")"
[ "$(last_checkpoint)" -ge 1 ] || fail "status shows no complete checkpoint"
echo "1. 3 workers: identical output in $((SECONDS - t)) s"

# 2. kill -9 of w1 (source and sinks) after a checkpoint
t=$SECONDS
submit_bg s2 -- "${job[@]}" --out "$tmp/out2" --checkpoint-dir "$tmp/ck2"
wait_for "$tmp/s2.err" submitted 20 || fail "job 2 not submitted"
wait_checkpoint_above 2 60 || fail "no checkpoint in run 2"
kill9 w1
submit_wait s2
same_output "$tmp/out2" "kill -9 of w1"
grep -q "w1 left" "$tmp/c1.log" || fail "the coordinator did not notice w1 leave"
grep -q "resum" "$tmp/w2.log" || fail "w2 did not resume from a checkpoint: $(tail -5 "$tmp/w2.log")"
echo "2. kill -9 of worker w1 mid-run: identical output in $((SECONDS - t)) s"
start_worker w1 "${S[@]}"
wait_for "$tmp/w1.log" "registered at" 30 || fail "w1 did not come back"

# 3. kill -9 of the elected coordinator mid-run
t=$SECONDS
[ "$(elected)" = c1 ] || fail "c1 should lead, $(elected) does"
submit_bg s3 -- "${job[@]}" --out "$tmp/out3" --checkpoint-dir "$tmp/ck3"
wait_for "$tmp/s3.err" submitted 20 || fail "job 3 not submitted"
wait_checkpoint_above 2 60 || fail "no checkpoint in run 3"
kill9 c1
# 4. outsiders, while the job runs
ep=$("$strom" status "${Z[@]}" | sed -n 's/^assignment: epoch \([0-9]*\),.*/\1/p')
if "$strom" submit --zk "$ZK" --keys "$tmp/evekeys" -- "${job[@]}" --out "$tmp/eve" \
  2>"$tmp/eve-submit.err"; then fail "another cluster's keys could submit"; fi
grep -q "not authorized" "$tmp/eve-submit.err" || fail "eve's submit: $(cat "$tmp/eve-submit.err")"
if "$strom" status --zk "$ZK" --keys "$tmp/evekeys" >/dev/null 2>&1; then
  fail "another cluster's keys could read the status"
fi
if timeout 20 "$strom" worker --zk "$ZK" --keys "$tmp/evekeys" --name eve \
  --listen "tcp://127.0.0.1:$((port_base + 9))" 2>"$tmp/eve-worker.err"; then
  fail "another cluster's keys could register a worker"
fi
grep -q "not authorized" "$tmp/eve-worker.err" || fail "eve's worker: $(cat "$tmp/eve-worker.err")"
"$build/zk_check" outsider "$ZK" >/dev/null || fail "zk_check outsider"
cp "$tmp/keys/w2.pub" "$tmp/evekeys/"
mkdir -p "$tmp/evekeys2" && cp "$tmp/evekeys"/eve.* "$tmp/keys/w2.pub" "$tmp/evekeys2/"
mv "$tmp/evekeys2/eve.key" "$tmp/evekeys2/w1.key" && mv "$tmp/evekeys2/eve.pub" "$tmp/evekeys2/w1.pub"
"$build/net_poke" "$tmp/evekeys" eve w2 "tcp://127.0.0.1:$((port_base + 2))" "$ep" \
  >"$tmp/poke1.out" 2>&1 || fail "an outsider's batch: $(cat "$tmp/poke1.out")"
"$build/net_poke" "$tmp/evekeys2" w1 w2 "tcp://127.0.0.1:$((port_base + 2))" "$ep" \
  >"$tmp/poke2.out" 2>&1 || fail "an outsider posing as w1: $(cat "$tmp/poke2.out")"
grep -q "not in the allowlist" "$tmp/w2.log" || fail "w2 logged no refusal"
echo "4. outsiders refused: submit, status, worker, znodes (no auth, guessed password), a batch as eve and as w1"
wait_for "$tmp/c2.log" "elected" 30 || fail "c2 did not take over"
submit_wait s3
same_output "$tmp/out3" "kill -9 of the coordinator"
echo "3. kill -9 of coordinator c1 mid-run: c2 took over; identical output in $((SECONDS - t)) s"
start_coordinator c1

# 4b. a worker with the stolen secret but a key of its own, not on the allowlist: it can
# register, but the coordinator gives it no work (case 5 runs on w1-w3 only)
mkdir -p "$tmp/rogue"
cp "$tmp/keys/cluster.secret" "$tmp/keys"/w*.pub "$tmp/rogue/"
"$strom" keygen "$tmp/rogue" rogue >/dev/null
"$strom" worker --zk "$ZK" --keys "$tmp/rogue" --name rogue --listen "tcp://127.0.0.1:$((port_base + 8))" \
  >>"$tmp/rogue.log" 2>&1 &
pid[rogue]=$!
wait_for "$tmp/rogue.log" "registered" 20 || fail "the rogue worker did not register"

# 5. a relay in front of w1 flips a bit of what w2 and w3 send it
t=$SECONDS
kill -TERM "${pid[w1]}"
wait "${pid[w1]}" || fail "w1 did not exit 0 on SIGTERM"
unset "pid[w1]"
"$build/relay" $((port_base + 11)) $((port_base + 1)) 200000 2>"$tmp/relay.log" &
pid[relay]=$!
start_worker w1 "${S[@]}" --advertise "tcp://127.0.0.1:$((port_base + 11))"
wait_for "$tmp/w1.log" "registered at tcp://127.0.0.1:$((port_base + 11))" 30 \
  || fail "w1 did not come back behind the relay"
submit_bg s5 -- "${job[@]}" --out "$tmp/out5" --checkpoint-dir "$tmp/ck5"
submit_wait s5
same_output "$tmp/out5" "a bit flipped in flight"
grep -q "flipped" "$tmp/relay.log" || fail "the relay flipped nothing: $(cat "$tmp/relay.log")"
grep -q "handshake or message refused" "$tmp/w1.log" || fail "w1 did not refuse the altered frame"
grep -q "worker rogue is registered, but its public key is not" "$tmp"/c[12].log \
  || fail "the coordinator did not refuse the rogue worker"
"$strom" status "${Z[@]}" >"$tmp/status5"
grep -q "process 2: w3" "$tmp/status5" && ! grep -q "process 3" "$tmp/status5" \
  || fail "case 5 should run on w1-w3: $(cat "$tmp/status5")"
echo "5. a bit flipped between workers: refused, identical output in $((SECONDS - t)) s"

# the end: everyone leaves when told
kill -9 "${pid[rogue]}" "${pid[relay]}"
wait "${pid[rogue]}" "${pid[relay]}" 2>/dev/null || true
unset "pid[rogue]" "pid[relay]"
shutdown_all
echo "cluster: all cases passed in $((SECONDS - t_start)) s"
