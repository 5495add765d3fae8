# tests/integration/lib/cluster.sh: what the cluster tests share: starting coordinators
# and workers in the background (logs in $tmp/NAME.log, pids in pid[NAME]), submitting,
# waiting, comparing the output with `strom run`'s, and cleaning up.
#
# Sourced after lib/zookeeper.sh, with strom, build and tmp set. The caller sets Z (the
# --zk and --keys options) once ZooKeeper runs, and may set WORKER_PREFIX_<NAME> (a command
# to run a worker under, e.g. "ip netns exec ns1") and WORKER_ADDR_<NAME> (its listen
# address; default tcp://127.0.0.1:$((port_base + N)) for wN).

declare -A pid=()
port_base=$((21000 + RANDOM % 30000))
Z=()
cluster_cleanup() {
  local p
  for p in "${pid[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${pid[@]}"; do wait "$p" 2>/dev/null || true; done
  zk_stop
}
fail() {
  echo "FAIL: $*" >&2
  local f
  for f in "$tmp"/*.log; do
    [ -f "$f" ] || continue
    echo "--- $(basename "$f")" >&2
    grep -v '^zookeeper:' "$f" | tail -n 15 >&2
  done
  exit 1
}
# wait_for FILE REGEX SECS: until a line of FILE matches, at most SECS
wait_for() {
  local end=$((SECONDS + $3))
  until grep -qE "$2" "$1" 2>/dev/null; do
    [ $SECONDS -lt "$end" ] || return 1
    sleep 0.1
  done
}
start_coordinator() {
  "$strom" coordinator "${Z[@]}" --name "$1" >>"$tmp/$1.log" 2>&1 &
  pid[$1]=$!
}
# start_worker NAME [ARGS...]
start_worker() {
  local name=$1 n=${1#w} prefix addr
  shift
  prefix=WORKER_PREFIX_$name
  addr=WORKER_ADDR_$name
  # shellcheck disable=SC2086
  ${!prefix:-} "$strom" worker "${Z[@]}" --name "$name" \
    --listen "${!addr:-tcp://127.0.0.1:$((port_base + n))}" "$@" >>"$tmp/$name.log" 2>&1 &
  pid[$name]=$!
}
kill9() {
  kill -9 "${pid[$1]}"
  wait "${pid[$1]}" 2>/dev/null || true
  unset "pid[$1]"
}
same_output() { # DIR LABEL: every file of $tmp/ref is in DIR, byte for byte
  local f
  for f in "$tmp/ref"/*.csv; do
    cmp -s "$f" "$1/$(basename "$f")" || fail "$2: $(basename "$f") differs from strom run"
  done
}
# submit_bg NAME [SUBMIT OPTIONS] -- JOB...: strom submit in the background
submit_bg() {
  local name=$1
  shift
  "$strom" submit "${Z[@]}" --progress "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pid[$name]=$!
}
# submit_wait NAME: the submit must exit 0
submit_wait() {
  local rc=0
  wait "${pid[$1]}" || rc=$?
  unset "pid[$1]"
  [ $rc -eq 0 ] || fail "$1: strom submit exited $rc: $(tail -c 600 "$tmp/$1.err")"
}
# last_checkpoint: the number `strom status` shows
last_checkpoint() {
  "$strom" status "${Z[@]}" | sed -n 's/^last complete checkpoint: \([0-9]*\)$/\1/p'
}
wait_checkpoint_above() { # N SECS
  local end=$((SECONDS + $2)) c
  while :; do
    c=$(last_checkpoint)
    [ -n "$c" ] && [ "$c" != none ] && [ "$c" -gt "$1" ] && return 0
    [ $SECONDS -lt "$end" ] || return 1
    sleep 0.2
  done
}
elected() { "$strom" status "${Z[@]}" | sed -n 's/^coordinator: //p'; }
# shutdown_all: strom stop --shutdown; every coordinator and worker must exit 0
shutdown_all() {
  local p rc
  "$strom" stop "${Z[@]}" --shutdown >/dev/null
  for p in "${!pid[@]}"; do
    case $p in c[0-9]*|w[0-9]*) ;; *) continue ;; esac
    rc=0
    timeout 20 tail --pid="${pid[$p]}" -f /dev/null || fail "$p did not exit on shutdown"
    wait "${pid[$p]}" || rc=$?
    unset "pid[$p]"
    [ $rc -eq 0 ] || fail "$p exited $rc on shutdown"
  done
}
