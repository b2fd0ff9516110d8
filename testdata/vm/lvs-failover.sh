# Two directors with the VIP moving between them and the same IPVS rules on both; with
# lvs_sync_daemon an established TCP connection survives the failover.
#
#   client 10.0.1.2 ----+---- d1 10.0.1.11 (priority 200)   VIP 10.0.1.100, VRRP between d1 and d2
#                       +---- d2 10.0.1.12 (priority 100)
#                       +---- rs1 10.0.1.21, rs2 10.0.1.22  (direct routing: VIP on lo, no ARP for it)
#
# Each director runs a whole daemon (VRRP and the checker child) with the virtual server
# 10.0.1.100:7 (DR, rr) over both real servers, which run a line echo server that prefixes each
# line with its name. The client opens one connection through the VIP and sends a line every 0.3 s.
# Once lines flow, the backup director's connection table must hold the connection (synced), then
# d1 gets SIGTERM: d2 takes the VIP and forwards the connection itself, and every line of the
# stream, ten more after the failover, must still be answered, by the same real server. The control run, without lvs_sync_daemon, must break the connection (d2 knows nothing
# of it and the stack resets it): it shows the test can fail. The mixed run has keepalived 2.2.7 on
# d1 and ours on d2.
# vm-timeout: 300
. "$SUITES/lib.sh"
WORK=/tmp/lvs-failover
mkdir -p "$WORK"
VIP=10.0.1.100

topology() {
  new_bridge br-lan || return 1
  local ns
  for ns in client d1 d2 rs1 rs2; do new_ns "$ns" || return 1; done
  veth_into eth0 client 10.0.1.2/24 br-lan
  veth_into eth0 d1 10.0.1.11/24 br-lan
  veth_into eth0 d2 10.0.1.12/24 br-lan
  veth_into eth0 rs1 10.0.1.21/24 br-lan
  veth_into eth0 rs2 10.0.1.22/24 br-lan
  for ns in rs1 rs2; do
    printf '#!/bin/sh\nwhile read -r line; do echo "%s $line"; done\n' "$ns" >"$WORK/echo-$ns"
    chmod +x "$WORK/echo-$ns"
    in_ns "$ns" busybox sh -ec "
      echo 1 >/proc/sys/net/ipv4/conf/all/arp_ignore
      echo 2 >/proc/sys/net/ipv4/conf/all/arp_announce
      /bin/ip addr add $VIP/32 dev lo" || return 1
    in_ns "$ns" busybox nc -ll -p 7 -e "$WORK/echo-$ns" &
  done
  modprobe ip_vs
}

# conf PRIORITY SYNC: a director's keepalived.conf; SYNC is "sync" for lvs_sync_daemon.
conf() {
  if [ "$2" = sync ]; then printf 'global_defs {\n  lvs_sync_daemon eth0 VI_1\n}\n'; fi
  cat <<EOF
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority $1
  advert_int 1
  virtual_ipaddress {
    $VIP/32
  }
}
virtual_server $VIP 7 {
  protocol TCP
  lb_algo rr
  lb_kind DR
  real_server 10.0.1.21 7 {
  }
  real_server 10.0.1.22 7 {
  }
}
EOF
}

# start NS WHICH CONF: the whole daemon (VRRP and checkers) in the foreground; sets PID_<NS>.
start() {
  local ns=$1 which=$2 conf=$3 log=$WORK/$1-$2.log
  if [ "$which" = keepalived ]; then
    ip netns exec "$ns" /usr/sbin/keepalived -n -l -D -f "$conf" -p "$WORK/$ns.pid" -r "$WORK/$ns-v.pid" -c "$WORK/$ns-c.pid" >"$log" 2>&1 &
  else
    ip netns exec "$ns" "$LVS_BIN/vrrpd" -n -l -D -f "$conf" -p "$WORK/$ns.pid" -r "$WORK/$ns-v.pid" -c "$WORK/$ns-c.pid" >"$log" 2>&1 &
  fi
  eval "PID_$ns=$!"
}

stop() {
  local pid i=0
  pid=$(eval echo "\$PID_$1")
  kill -TERM "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
    grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && break
    sleep 0.1
    i=$((i + 1))
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

has_vip() { in_ns "$1" ip -4 addr show dev eth0 | grep -q " $VIP/32"; }
has_service() { in_ns "$1" "$REF_IPVSADM" -Ln | grep -q 'Route'; }
# The client's connection in NS's table: prints the real server it goes to.
connection() {
  in_ns "$1" "$REF_IPVSADM" -Lnc | awk -v vip="$VIP:7" '$3 == "ESTABLISHED" && $4 ~ /^10\.0\.1\.2:/ && $5 == vip {print $6; found=1} END {exit !found}'
}
replies() { wc -l <"$WORK/replies" 2>/dev/null || echo 0; }
enough_replies() { [ "$(replies)" -ge "$1" ]; }

# stream: lines over one connection to the VIP, one every 0.3 s, each answered within 5 s or the
# stream ends; it goes on until $WORK/failed-over exists, then sends AFTER more lines. The answers
# (or "no-reply N", "write-failed N") in $WORK/replies.
AFTER=10
stream() {
  : >"$WORK/replies"
  rm -f "$WORK/failed-over"
  # shellcheck disable=SC2016 # expanded by the inner shell
  in_ns client bash -c '
    exec 3<>"/dev/tcp/$1/7" || { echo "connect-failed"; exit 1; }
    i=0 after=0
    while [ "$after" -lt "$3" ]; do
      i=$((i + 1))
      [ -e "$2" ] && after=$((after + 1))
      echo "$i" >&3 2>/dev/null || { echo "write-failed $i"; exit 1; }
      if read -r -t 5 line <&3; then echo "$line"; else echo "no-reply $i"; exit 1; fi
      sleep 0.3
    done' - "$VIP" "$WORK/failed-over" "$AFTER" >"$WORK/replies" 2>&1 &
  STREAM_PID=$!
}

# scenario NAME D1 D2 SYNC: d1 with D1 (ours or keepalived), d2 with D2; SYNC "sync" or "none".
# Prints what happened, one fact a line, for the checks.
scenario() {
  local name=$1 sync=$4
  conf 200 "$sync" >"$WORK/d1-$name.conf"
  conf 100 "$sync" >"$WORK/d2-$name.conf"
  rm -f "$WORK"/d[12]-*.log
  start d1 "$2" "$WORK/d1-$name.conf"
  start d2 "$3" "$WORK/d2-$name.conf"
  if ! wait_until 15 has_vip d1 || ! wait_until 5 has_service d2; then
    echo "no-election"
  fi
  stream
  wait_until 10 enough_replies 5 || echo "stream-not-flowing"
  local before after at_failover
  if wait_until 6 connection d2; then before=$(connection d2); echo "synced-to-d2 $before"; else echo "not-synced-to-d2"; fi
  at_failover=$(replies)
  stop d1
  wait_until 10 has_vip d2 || echo "d2-no-vip"
  touch "$WORK/failed-over"
  # While the stream still runs: d2 forwards the connection itself now.
  if wait_until 10 enough_replies $((at_failover + 3)) && after=$(connection d2); then echo "d2-forwards $after"; fi
  wait "$STREAM_PID"
  local served count
  served=$(awk '{print $1}' "$WORK/replies" | sort -u | tr '\n' ' ')
  count=$(grep -c '^rs[12] [0-9]*$' "$WORK/replies")
  echo "answered $count of $(wc -l <"$WORK/replies") by $served"
  echo "answered after the failover $((count - at_failover))"
  stop d2
  cp "$WORK/replies" "$WORK/replies-$name"
}

# expect_survival NAME OUTPUT: every line answered by one real server, the one d2 had synced.
expect_survival() {
  local name=$1 out=$2 rs
  rs=$(printf '%s\n' "$out" | sed -n 's/^synced-to-d2 \(10\.0\.1\.2[12]\):7$/\1/p')
  case $rs in 10.0.1.21) rs=rs1 ;; 10.0.1.22) rs=rs2 ;; *) rs=unknown ;; esac
  if printf '%s\n' "$out" | grep -qx "answered \([0-9]*\) of \1 by $rs " &&
    printf '%s\n' "$out" | grep -q "^answered after the failover \([5-9]\|[1-9][0-9]\)$" &&
    printf '%s\n' "$out" | grep -q '^d2-forwards 10\.0\.1\.2[12]:7$' &&
    ! printf '%s\n' "$out" | grep -q 'no-election\|stream-not-flowing\|d2-no-vip'; then
    pass "$name"
  else
    fail "$name" "the connection did not survive the failover" "$out" "replies:" "$(cat "$WORK/replies")" \
      "d1 log:" "$(tail -n 15 "$WORK"/d1-*.log)" "d2 log:" "$(tail -n 15 "$WORK"/d2-*.log)"
  fi
}

topology || fail topology "cannot build the topology"

OUT=$(scenario ours-ours ours ours sync)
expect_survival connection-survives-failover "$OUT"

OUT=$(scenario control ours ours none)
if printf '%s\n' "$OUT" | grep -q '^not-synced-to-d2$' &&
  ! printf '%s\n' "$OUT" | grep -q "^answered after the failover \([5-9]\|[1-9][0-9]\)$" &&
  grep -q 'no-reply\|write-failed' "$WORK/replies"; then
  pass without-sync-connection-breaks
else
  fail without-sync-connection-breaks "the connection survived without lvs_sync_daemon" "$OUT" "replies:" "$(cat "$WORK/replies")"
fi

OUT=$(scenario mixed keepalived ours sync)
expect_survival keepalived-master-ours-backup "$OUT"
