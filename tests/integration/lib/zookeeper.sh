# tests/integration/lib/zookeeper.sh: a throwaway ZooKeeper server for one test script.
#
# Sourced, not run. The server is standalone, listens on 127.0.0.1 only (or ZK_HOST), keeps its data,
# configuration and log under the directory the test gives, and must not outlive the test:
# the caller installs a trap that stops it whatever happens.
#
#   . "$here/lib/zookeeper.sh"
#   trap 'zk_stop; rm -rf "$tmp"' EXIT
#   trap 'exit 130' INT TERM    # so that a signal runs the EXIT trap
#   zk_start "$tmp/zk"          # exports ZK=127.0.0.1:PORT, ZK_PID, ZK_DIR
#   ...                         # zk_kill: kill -9; zk_restart: kill -9 and start again on
#                               # the same port and data; zk_log_tail: the server's log
#
# Should the test itself be killed without running its trap (kill -9), a watchdog kills
# the server within a second; the server also stays in the test's process group.
#
# The server is the Debian package's (zookeeper 3.8, /usr/share/java/zookeeper.jar): its
# manifest names the jars it needs (netty, jute, jackson, slf4j-api, ...); we add an slf4j
# binding and log4j 1.2 so that it logs, to DIR/zookeeper.log through the package's
# log4j.properties (/etc/zookeeper/conf_example, first on the class path), whose appender
# and directory we choose with system properties. Never started as a service: no systemd
# here, and a shared server would couple tests.

ZK_JAVA=${ZK_JAVA:-java}
ZK_CLASSPATH=/etc/zookeeper/conf_example:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar
ZK_START_TIMEOUT=${ZK_START_TIMEOUT:-30}
ZK_HOST=${ZK_HOST:-127.0.0.1} # the address it listens on (a test's bridge, for namespaces)
ZK_PID=
ZK_DIR=
ZK_WATCHDOG=

# zk_4lw PORT WORD: sends a four-letter word to $ZK_HOST:PORT through bash's /dev/tcp,
# prints the answer; fails (without waiting long) when nothing listens.
zk_4lw() {
  (exec 3<>"/dev/tcp/$ZK_HOST/$1" && printf '%s' "$2" >&3 && timeout 2 cat <&3) 2>/dev/null
}

# zk_port_free PORT: nothing accepts connections on $ZK_HOST:PORT
zk_port_free() {
  ! (exec 3<>"/dev/tcp/$ZK_HOST/$1") 2>/dev/null
}

zk_log_tail() {
  [ -n "$ZK_DIR" ] || return 0
  echo "--- tail of $ZK_DIR/zookeeper.log" >&2
  tail -n "${1:-30}" "$ZK_DIR/zookeeper.log" >&2 2>/dev/null || true
  echo "--- tail of $ZK_DIR/server.out" >&2
  tail -n 10 "$ZK_DIR/server.out" >&2 2>/dev/null || true
}

# _zk_launch: starts the server on $ZK_DIR/zoo.cfg in the background, sets ZK_PID
_zk_launch() {
  # a simple command after &: ZK_PID is the java process itself. It stays in the test's
  # process group, so that killing the group (a test runner's timeout) kills it too.
  "$ZK_JAVA" -Xmx256m -Xms32m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dzookeeper.log.dir="$ZK_DIR" -Dzookeeper.root.logger=INFO,ROLLINGFILE \
    -Dzookeeper.jmx.log4j.disable=true -Djava.net.preferIPv4Stack=true \
    -cp "$ZK_CLASSPATH" org.apache.zookeeper.server.quorum.QuorumPeerMain "$ZK_DIR/zoo.cfg" \
    >>"$ZK_DIR/server.out" 2>&1 </dev/null &
  ZK_PID=$!
  # a watchdog: should the test die without its trap (kill -9), the server follows
  # within a second instead of running on
  local parent=$$ server=$ZK_PID
  (
    trap - EXIT
    while kill -0 "$parent" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 1; done
    kill -9 "$server" 2>/dev/null
  ) >/dev/null 2>&1 </dev/null &
  ZK_WATCHDOG=$!
}

_zk_reap() {
  wait "$ZK_PID" 2>/dev/null || true
  ZK_PID=
  if [ -n "$ZK_WATCHDOG" ]; then
    kill "$ZK_WATCHDOG" 2>/dev/null || true
    wait "$ZK_WATCHDOG" 2>/dev/null || true
    ZK_WATCHDOG=
  fi
}

# _zk_wait PORT: until the server answers (0), exits (1, ZK_PID cleared) or the timeout (2)
_zk_wait() {
  local port=$1 deadline=$((SECONDS + ZK_START_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    if ! kill -0 "$ZK_PID" 2>/dev/null; then
      _zk_reap
      return 1
    fi
    # imok says the process runs, srvr that it serves (a standalone server is up)
    if [ "$(zk_4lw "$port" ruok)" = imok ] && zk_4lw "$port" srvr | grep -q '^Mode: standalone'; then
      return 0
    fi
    sleep 0.1
  done
  return 2
}

# zk_start DIR: starts the server with its data in DIR (created), waits until it answers
# "imok" (ZK_START_TIMEOUT seconds at most), exports ZK=127.0.0.1:PORT. A port found taken
# when the server binds it (another test got there first) is retried with another one.
zk_start() {
  local dir=$1 attempt port rc
  [ -z "$ZK_PID" ] || { echo "zk_start: a server is already running (pid $ZK_PID)" >&2; return 1; }
  mkdir -p "$dir/data"
  ZK_DIR=$(cd "$dir" && pwd)
  for attempt in 1 2 3 4 5; do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    zk_port_free "$port" || continue
    cat >"$ZK_DIR/zoo.cfg" <<EOF
tickTime=200
initLimit=10
syncLimit=5
dataDir=$ZK_DIR/data
clientPort=$port
clientPortAddress=$ZK_HOST
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr
# session timeouts from 2 ticks (0.4 s) to 20 ticks (4 s): the tests use short sessions
minSessionTimeout=400
maxSessionTimeout=4000
autopurge.purgeInterval=0
EOF
    _zk_launch
    rc=0
    _zk_wait "$port" || rc=$?
    if [ $rc -eq 0 ]; then
      export ZK="$ZK_HOST:$port"
      return 0
    fi
    if [ $rc -eq 2 ]; then
      echo "zk_start: no answer from ZooKeeper at $ZK_HOST:$port within ${ZK_START_TIMEOUT}s" >&2
      zk_log_tail
      zk_kill
      return 1
    fi
    if grep -q 'Address already in use' "$ZK_DIR/zookeeper.log" "$ZK_DIR/server.out" 2>/dev/null; then
      echo "zk_start: port $port taken, trying another" >&2
      continue
    fi
    echo "zk_start: the ZooKeeper server exited while starting" >&2
    zk_log_tail
    return 1
  done
  echo "zk_start: no free port found in 5 attempts" >&2
  return 1
}

# zk_restart: kill -9 the server and start it again on the same port and data, as a crash
# and a restart of ZooKeeper: clients reconnect, sessions younger than their timeout live on.
zk_restart() {
  local zk=${ZK:?zk_restart: no server started}
  zk_kill
  _zk_launch
  if ! _zk_wait "${zk##*:}"; then
    echo "zk_restart: ZooKeeper did not come back at $zk" >&2
    zk_log_tail
    zk_kill
    return 1
  fi
  export ZK=$zk
}

# zk_stop: stops the server (SIGTERM, then SIGKILL after 10 s) and waits for it. Safe to
# call when none runs, and twice.
zk_stop() {
  local pid=$ZK_PID i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  _zk_reap
  unset ZK
}

# zk_kill: kill -9, as a crash would.
zk_kill() {
  local pid=$ZK_PID
  [ -n "$pid" ] || return 0
  kill -KILL "$pid" 2>/dev/null || true
  _zk_reap
  unset ZK
}
