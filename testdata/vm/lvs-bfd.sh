# BFD_CHECK on the real kernel, vrrpd against keepalived 2.2.7: the NAT topology of lib.sh, a
# director running the whole daemon (VRRP side, checker child and BFD sessions) with rs1 checked by
# BFD_CHECK over a session to a keepalived on rs1 that runs only a bfd_instance. rs1 is in the table
# while the session is up, leaves it within the detection time (plus a check of the table) when
# rs1's keepalived is killed, and comes back when it returns; the same tables under keepalived as
# the director at every stage. Ours also with -C alone (the checker process runs the session).
# vm-timeout: 600
. "$SUITES/lib.sh"
IPVSADM=$REF_IPVSADM
WORK=/tmp/lvs-bfd
mkdir -p "$WORK"

if ! nat_topology; then
  fail topology "the namespaces could not be built"
  exit 1
fi
pass topology

cat >"$WORK/director.conf" <<EOF
bfd_instance RS1 {
  neighbor_ip $RS1
  source_ip 10.0.2.1
  min_rx 100
  min_tx 100
  multiplier 3
}
virtual_server $VIP 80 {
  protocol TCP
  lb_algo rr
  lb_kind NAT
  real_server $RS1 80 {
    BFD_CHECK {
      name RS1
    }
  }
  real_server $RS2 80 {
  }
}
EOF
cat >"$WORK/rs1.conf" <<EOF
bfd_instance DIRECTOR {
  neighbor_ip 10.0.2.1
  source_ip $RS1
  min_rx 100
  min_tx 100
  multiplier 3
}
EOF

# The keepalived on rs1: BFD only (-P: no checker process; its VRRP process has nothing to do).
start_peer() {
  ip netns exec rs1 /usr/sbin/keepalived -P -n -l -D -f "$WORK/rs1.conf" -p "$WORK/rs1.pid" \
    -r "$WORK/rs1-r.pid" -b "$WORK/rs1-b.pid" >>"$WORK/rs1.log" 2>&1 &
  PEER_PID=$!
}
# kill_peer: SIGKILL to every keepalived process of rs1: its BFD process says nothing on the wire.
kill_peer() {
  local pid
  for pid in $(cat "$WORK/rs1-b.pid" "$WORK/rs1-r.pid" 2>/dev/null) "$PEER_PID"; do
    kill -KILL "$pid" 2>/dev/null
  done
  wait "$PEER_PID" 2>/dev/null
  rm -f "$WORK/rs1.pid" "$WORK/rs1-r.pid" "$WORK/rs1-b.pid"
}

has_rs() { in_ns director "$IPVSADM" -Ln | grep -q "$1:80"; }
lacks_rs() { ! has_rs "$1"; }
table() { in_ns director "$IPVSADM" -Sn; }

# start_director WHICH MODE: keepalived or ours, the whole daemon (MODE "all") or -C alone.
start_director() {
  local which=$1 mode=$2 program=/usr/sbin/keepalived flags=()
  [ "$which" = ours ] && program=$LVS_BIN/vrrpd
  [ "$mode" = checker ] && flags=(-C)
  RUN=$WORK/$which-$mode
  DAEMON_LOG=$RUN.log
  ip netns exec director "$program" "${flags[@]}" -n -l -D -f "$WORK/director.conf" -p "$RUN.pid" \
    -r "$RUN-r.pid" -c "$RUN-c.pid" -b "$RUN-b.pid" >"$DAEMON_LOG" 2>&1 &
  DAEMON_PID=$!
}
# run_pids: the processes of this run: their command lines name its pid files (a pattern that
# does not match its own grep).
run_pids() {
  grep -l -e "$(basename "$RUN")-[c][.]pid" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3
}
no_run_pids() { [ -z "$(run_pids)" ]; }
# stop_director: SIGTERM to the daemon and then to every process of the run (keepalived's
# children); all are waited for, SIGKILL after 15 s, so that nothing of one run holds port 3784
# or programs the table in the next.
stop_director() {
  local main
  main=$(cat "$RUN.pid" 2>/dev/null)
  [ "$main" = "$DAEMON_PID" ] || fail "$(basename "$RUN")/pid" "DAEMON_PID $DAEMON_PID, pid file $main" "$(busybox ps -o pid,ppid,args)"
  stop_daemon
  # shellcheck disable=SC2046 # one pid a word
  kill -TERM $(run_pids) 2>/dev/null
  if ! wait_until 15 no_run_pids; then
    # shellcheck disable=SC2046
    kill -KILL $(run_pids) 2>/dev/null
  fi
}

# now_ms: milliseconds since boot (busybox date has no %N).
now_ms() {
  local up
  read -r up _ </proc/uptime
  echo $((${up%.*} * 1000 + 10#${up#*.} * 10))
}

# scenario WHICH MODE: the tables at each stage (session up, peer gone, peer back) as "stage:table".
scenario() {
  local which=$1 mode=$2 start elapsed
  start_peer
  start_director "$which" "$mode"
  # The real server is in the table from the start until the first Down report: wait for the session.
  if ! wait_until 30 grep -q '(RS1) Entering Up state' "$DAEMON_LOG" || ! wait_until 10 has_rs "$RS1"; then
    fail "$which-$mode/session-up" "rs1 not in the table after 30 s" "$(table)" "$(tail -n 30 "$DAEMON_LOG")" \
      "$(busybox ps -o pid,ppid,args)" "$(in_ns director cat /proc/net/udp6 /proc/net/udp)" "$(ls "$WORK")"
  fi
  echo "UP"
  table
  sleep 2
  start=$(now_ms)
  kill_peer
  if wait_until 10 lacks_rs "$RS1"; then
    elapsed=$(($(now_ms) - start))
    pass "$which-$mode/rs1-leaves-${elapsed}ms"
  else
    fail "$which-$mode/rs1-leaves" "rs1 still in the table after 10 s" "$(table)" "$(tail -n 30 "$DAEMON_LOG")"
  fi
  echo "PEER-GONE"
  table
  start_peer
  if ! wait_until 30 has_rs "$RS1"; then
    fail "$which-$mode/rs1-returns" "rs1 not back after 30 s" "$(table)" "$(tail -n 30 "$DAEMON_LOG")"
  fi
  echo "PEER-BACK"
  table
  stop_director
  kill_peer
}

ours=$(scenario ours all)
check ours-all/logs-the-check grep -q 'BFD check of \[RS1\] RS(\[10.0.2.11\]:tcp:80) is DOWN' "$WORK/ours-all.log"
check ours-all/session-expired grep -q '(RS1) Expired after' "$WORK/ours-all.log"
check_eq ours-all/rules-removed-at-stop "" "$(table)"
ours_checker=$(scenario ours checker)
check_eq ours-checker/rules-removed-at-stop "" "$(table)"
reference=$(scenario keepalived all)
check_eq same-tables-as-keepalived "$reference" "$ours"
check_eq same-tables-with-C-alone "$reference" "$ours_checker"
