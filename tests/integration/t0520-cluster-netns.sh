#!/usr/bin/env bash
# Cluster mode across network namespaces: each of three `strom worker`s runs in its own
# network namespace (held by an `unshare --net` process, entered with nsenter, so that no
# /run/netns mount is needed), joined to the others by a veth pair to a bridge that this
# test makes; ZooKeeper and the coordinator listen on the bridge's address. Nothing can go
# over a shared loopback. The DEBS job (Q1 and Q2, dirty data, checkpoints) must write the
# same bytes as `strom run` on one machine. Everything made here is removed afterwards.
# Needs root and network namespaces; without them, it says so and skips.
#   t0520-cluster-netns.sh BUILD_DIR
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ] || ! unshare --net true 2>/dev/null; then
  echo "SKIP: needs root and network namespaces"
  exit 0
fi
tmp=$(mktemp -d)
strom=$build/strom
tag=s$$ # names of links: unique to this run, at most 15 characters
net=10.$((100 + RANDOM % 100)).$((RANDOM % 250)) # a /24 for this run
export ZK_HOST=$net.1
# shellcheck source=lib/zookeeper.sh
. "$here/lib/zookeeper.sh"
# shellcheck source=lib/cluster.sh
. "$here/lib/cluster.sh"
declare -A holder=() # wN -> the pid of the process that holds wN's namespace
netns_cleanup() {
  local p
  for p in "${holder[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  ip link del "$tag-br" 2>/dev/null || true
}
trap 'cluster_cleanup; netns_cleanup; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
t_start=$SECONDS

ip link add "$tag-br" type bridge
ip addr add "$net.1/24" dev "$tag-br"
ip link set "$tag-br" up
for i in 1 2 3; do
  unshare --net sleep 1000000 &
  holder[w$i]=$!
  ns=/proc/${holder[w$i]}/ns/net
  for _ in $(seq 50); do # until unshare has made the namespace
    [ "$(readlink "$ns")" != "$(readlink /proc/self/ns/net)" ] && break
    sleep 0.1
  done
  in_ns=(nsenter --net="$ns")
  ip link add "$tag-v$i" type veth peer name "$tag-p$i"
  ip link set "$tag-p$i" netns "${holder[w$i]}"
  "${in_ns[@]}" ip link set "$tag-p$i" name eth0
  "${in_ns[@]}" ip addr add "$net.1$i/24" dev eth0
  "${in_ns[@]}" ip link set eth0 up
  "${in_ns[@]}" ip link set lo up
  ip link set "$tag-v$i" master "$tag-br"
  ip link set "$tag-v$i" up
  printf -v "WORKER_PREFIX_w$i" '%s' "nsenter --net=$ns"
  printf -v "WORKER_ADDR_w$i" '%s' "tcp://$net.1$i:7100"
done
"$strom" gen --houses 1 --hours 5 --seed 7 --dirty 0.01 --out "$tmp/in.csv" 2>/dev/null
"$strom" run debs14 --input "$tmp/in.csv" --out "$tmp/ref" --threads 2 --quiet
for n in w1 w2 w3 c1; do "$strom" keygen "$tmp/keys" "$n" >/dev/null; done
zk_start "$tmp/zk"
Z=(--zk "$ZK" --keys "$tmp/keys")
echo "ZooKeeper at $ZK (the bridge), up after $((SECONDS - t_start)) s"
start_coordinator c1
for w in w1 w2 w3; do start_worker "$w" --session-timeout 2000; done
for w in w1 w2 w3; do wait_for "$tmp/$w.log" "registered at tcp://$net" 30 || fail "$w did not register"; done
t=$SECONDS
submit_bg s1 -- debs14 --input "$tmp/in.csv" --threads 2 --out "$tmp/out" \
  --checkpoint-dir "$tmp/ck" --checkpoint-interval 0.5
submit_wait s1
same_output "$tmp/out" "3 workers in 3 namespaces"
"$strom" status "${Z[@]}" >"$tmp/status"
for i in 1 2 3; do
  grep -q "process $((i - 1)): w$i tcp://$net.1$i:7100" "$tmp/status" || fail "status: $(cat "$tmp/status")"
done
echo "3 workers in 3 network namespaces: identical output in $((SECONDS - t)) s"
shutdown_all
echo "netns: passed in $((SECONDS - t_start)) s"
