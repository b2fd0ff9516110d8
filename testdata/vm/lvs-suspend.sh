# vrrpd's checker process against keepalived 2.2.7's, on the real kernel: what keepalived's checker
# process does on its own, without a VRRP instance driving it.
#
# 1. ha_suspend: the NAT topology of lib.sh without the VIP on the director; a virtual server with
#    ha_suspend, HTTP_GET on rs1, TCP_CHECK on rs2, notify scripts. Each daemon alone in turn: started
#    without the address (checkers deactivated), rs1's httpd stopped while suspended (nothing may
#    change), the VIP added with `ip addr` (checkers activated, rs1 leaves), the VIP removed (checkers
#    suspended) and rs1 started again (still out), the VIP back (rs1 returns). `ipvsadm -Sn`, the
#    daemon's ha_suspend log lines and the notify scripts' notes must be the same at every step.
#    Then the whole daemon (VRRP and checkers): the instance's VIP, added as MASTER, activates the
#    checkers.
# 2. lvs_sync_daemon naming no VRRP instance: the checker process runs the master and the backup
#    sync daemon itself. `ipvsadm -L --daemon` the same under both after start, reloads (same
#    settings without id, new settings with id, the same again, a configuration without
#    lvs_sync_daemon) and stop; with -C and with the whole daemon (a VRRP instance there but not
#    named); nothing with an instance named that does not exist, and nothing without a virtual server.
# vm-timeout: 900
. "$SUITES/lib.sh"
IPVSADM=$REF_IPVSADM
WORK=/tmp/lvs-suspend
mkdir -p "$WORK"

# start_daemon NS WHICH CONF [full]: keepalived or ours in the foreground as a child of this shell;
# checkers only (-C) unless "full".
start_daemon() {
  local ns=$1 which=$2 conf=$3 mode=-C
  [ "$4" = full ] && mode=""
  DAEMON_LOG=$WORK/$which-$(basename "$conf").log
  if [ "$which" = keepalived ]; then
    # shellcheck disable=SC2086 # mode is one word or none
    ip netns exec "$ns" /usr/sbin/keepalived $mode -n -l -D -f "$conf" -p "$WORK/ka.pid" -c "$WORK/ka-c.pid" -r "$WORK/ka-v.pid" >"$DAEMON_LOG" 2>&1 &
  else
    # shellcheck disable=SC2086
    ip netns exec "$ns" "$LVS_BIN/vrrpd" $mode -n -l -D -f "$conf" -p "$WORK/our.pid" -c "$WORK/our-c.pid" -r "$WORK/our-v.pid" >"$DAEMON_LOG" 2>&1 &
  fi
  DAEMON_PID=$!
}

table() { in_ns "$1" "$IPVSADM" -Sn; }
logged() { grep -qE "$1" "$DAEMON_LOG"; }

# --- 1. ha_suspend ----------------------------------------------------------------------------

note_script
cat >"$WORK/suspend.conf" <<EOF
virtual_server $VIP 80 {
  protocol TCP
  lb_algo rr
  lb_kind NAT
  delay_loop 1
  ha_suspend
  real_server $RS1 80 {
    notify_up "$WORK/note.sh rs1-up"
    notify_down "$WORK/note.sh rs1-down"
    HTTP_GET {
      url {
        path /
      }
      connect_timeout 1
      retry 0
    }
  }
  real_server $RS2 80 {
    notify_up "$WORK/note.sh rs2-up"
    notify_down "$WORK/note.sh rs2-down"
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
}
EOF

if ! nat_topology; then
  fail topology "the namespaces could not be built"
  exit 1
fi
in_ns director ip addr del "$VIP/24" dev eth0
pass topology

has_rs() { in_ns director "$IPVSADM" -Ln | grep -q "$1:80"; }
lacks_rs() { ! has_rs "$1"; }
has_vip() { in_ns director ip -4 addr show dev eth0 | grep -q " $VIP/"; }

# The daemon's ha_suspend lines, without their timestamps.
suspend_lines() {
  grep -E 'healthchecker for service|Netlink reflector reports' "$DAEMON_LOG" | sed 's/^.*[0-9]\{4\}: //'
}

# suspend_run WHICH: prints the table at each step, then the log lines and the notes.
suspend_run() {
  local which=$1
  rm -f "$WORK/notes"
  start_daemon director "$which" "$WORK/suspend.conf"
  wait_until 30 logged 'Deactivating healthchecker' && wait_until 10 has_rs "$RS2"
  # Several delay_loops: a checker that ran would have moved rs1 or noted something.
  sleep 4
  echo "== started without the VIP"
  table director
  kill "$(httpd_pid rs1)"
  sleep 4
  echo "== rs1 stopped while suspended"
  table director
  if [ "$which" = ours ]; then
    check ours/rs1-stays-while-suspended has_rs "$RS1"
  fi
  in_ns director ip addr add "$VIP/24" dev eth0
  if ! wait_until 20 lacks_rs "$RS1"; then
    fail "$which/rs1-leaves-once-active" "rs1 still in the table 20 s after the VIP came" "$(tail -n 20 "$DAEMON_LOG")"
  fi
  sleep 2
  echo "== VIP added"
  table director
  in_ns director ip addr del "$VIP/24" dev eth0
  wait_until 10 logged 'Suspending healthchecker'
  start_httpd rs1 "$RS1" rs1
  sleep 4
  echo "== VIP removed, rs1 started"
  table director
  if [ "$which" = ours ]; then
    check ours/rs1-stays-out-while-suspended lacks_rs "$RS1"
  fi
  in_ns director ip addr add "$VIP/24" dev eth0
  if ! wait_until 20 has_rs "$RS1"; then
    fail "$which/rs1-returns-once-active" "rs1 not back 20 s after the VIP came" "$(tail -n 20 "$DAEMON_LOG")"
  fi
  sleep 2
  echo "== VIP back"
  table director
  stop_daemon
  in_ns director ip addr del "$VIP/24" dev eth0
  echo "== log"
  suspend_lines
  echo "== notes"
  cat "$WORK/notes" 2>/dev/null
  cp "$DAEMON_LOG" "$WORK/suspend-$which.log"
}

theirs=$(suspend_run keepalived)
ours=$(suspend_run ours)
printf 'ha-suspend: keepalived\n%s\n' "$theirs"
if [ "$ours" == "$theirs" ] && printf '%s\n' "$ours" | grep -q 'Suspending healthchecker'; then
  pass ha-suspend/same-tables-logs-and-notes
else
  fail ha-suspend/same-tables-logs-and-notes "the runs differ (or nothing was suspended)" \
    "keepalived:" "$theirs" "ours:" "$ours" "our log:" "$(tail -n 40 "$WORK/suspend-ours.log")"
fi

# The whole daemon: the VRRP instance adds the VIP when it becomes MASTER, and the checker process,
# suspended until then, activates its checkers.
{
  printf 'vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 60\n  priority 100\n  advert_int 1\n  virtual_ipaddress {\n    %s/24\n  }\n}\n' "$VIP"
  cat "$WORK/suspend.conf"
} >"$WORK/suspend-full.conf"
full_run() {
  local which=$1
  start_daemon director "$which" "$WORK/suspend-full.conf" full
  wait_until 30 has_vip
  wait_until 10 logged 'Activating healthchecker'
  # Both servers answer: a first check that times out under emulation may take one out for a moment.
  sleep 3
  wait_until 15 has_rs "$RS1" && wait_until 15 has_rs "$RS2"
  echo "== master"
  table director
  echo "== log"
  suspend_lines | grep -E 'healthchecker for service|reports IP [0-9.]+ (added|removed)$'
  stop_daemon
  in_ns director ip addr del "$VIP/24" dev eth0 2>/dev/null
  cp "$DAEMON_LOG" "$WORK/suspend-full-$which.log"
}
theirs=$(full_run keepalived)
ours=$(full_run ours)
printf 'ha-suspend-vrrp: keepalived\n%s\n' "$theirs"
if [ "$ours" == "$theirs" ] && printf '%s\n' "$ours" | grep -q 'Activating healthchecker'; then
  pass ha-suspend/vrrp-master-activates-the-checkers
else
  fail ha-suspend/vrrp-master-activates-the-checkers "the runs differ (or nothing was activated)" \
    "keepalived:" "$theirs" "ours:" "$ours" "our log:" "$(tail -n 40 "$WORK/suspend-full-ours.log")"
fi

# --- 2. lvs_sync_daemon without a VRRP instance -------------------------------------------------

daemons() { in_ns sd "$REF_IPVSADM" -L --daemon 2>&1; }
stop_all_daemons() {
  in_ns sd "$REF_IPVSADM" --stop-daemon master >/dev/null 2>&1
  in_ns sd "$REF_IPVSADM" --stop-daemon backup >/dev/null 2>&1
}

new_bridge br-sync
new_ns sd
veth_into eth0 sd 10.0.5.1/24 br-sync
modprobe ip_vs

service() {
  printf 'virtual_server 10.0.5.100 80 {\n  protocol TCP\n  real_server 10.0.5.11 80 {\n  }\n}\n'
}
instance() {
  printf 'vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  advert_int 1\n  virtual_ipaddress {\n    10.0.5.100/24\n  }\n}\n'
}
{ printf 'global_defs {\n  lvs_sync_daemon eth0\n}\n'; service; } >"$WORK/sync-plain.conf"
{ printf 'global_defs {\n  lvs_sync_daemon eth0 id 7 maxlen 1200 port 9000 ttl 2 group 239.1.2.3\n}\n'; service; } >"$WORK/sync-options.conf"
service >"$WORK/sync-none.conf"
{ printf 'global_defs {\n  lvs_sync_daemon eth0\n}\n'; service; instance; } >"$WORK/sync-full.conf"
{ printf 'global_defs {\n  lvs_sync_daemon eth0 VI_9\n}\n'; service; } >"$WORK/sync-unknown.conf"
printf 'global_defs {\n  lvs_sync_daemon eth0\n}\n' >"$WORK/sync-no-service.conf"

started() { logged 'Opening file' && sleep 3; }

# reload_to CONF: SIGHUP with CONF as the running file; prints the daemons after.
reload_to() {
  cp "$1" "$WORK/live.conf"
  kill -HUP "$DAEMON_PID"
  sleep 4
  echo "== reloaded to $(basename "$1")"
  daemons
}

# sync_run WHICH: -C through start, reloads and stop.
sync_run() {
  local which=$1
  cp "$WORK/sync-plain.conf" "$WORK/live.conf"
  start_daemon sd "$which" "$WORK/live.conf"
  wait_until 30 started
  echo "== started"
  daemons
  reload_to "$WORK/sync-plain.conf"
  reload_to "$WORK/sync-options.conf"
  reload_to "$WORK/sync-options.conf"
  reload_to "$WORK/sync-none.conf"
  stop_daemon
  echo "== stopped"
  daemons
  stop_all_daemons
}

# once WHICH CONF [full]: the daemons a few seconds after start, and after stop.
once() {
  start_daemon sd "$1" "$2" "$3"
  wait_until 30 started
  sleep 2
  echo "== started"
  daemons
  stop_daemon
  echo "== stopped"
  daemons
  stop_all_daemons
}

# compare CHECK WANT_DAEMONS THEIRS OURS: the same text, holding a sync daemon or none as wanted.
compare() {
  local name=$1 want=$2 theirs=$3 ours=$4 ran=no
  printf '%s: keepalived\n%s\n' "$name" "$theirs"
  printf '%s\n' "$ours" | grep -q 'sync daemon' && ran=yes
  if [ "$ours" == "$theirs" ] && [ "$ran" = "$want" ]; then
    pass "$name"
  else
    fail "$name" "daemon lists differ (or a daemon ran: $ran, wanted: $want)" "keepalived:" "$theirs" "ours:" "$ours" \
      "our log:" "$(tail -n 25 "$DAEMON_LOG")"
  fi
}

compare sync/checker-runs-both-daemons-through-reloads yes "$(sync_run keepalived)" "$(sync_run ours)"
compare sync/whole-daemon-with-an-unnamed-instance yes \
  "$(once keepalived "$WORK/sync-full.conf" full)" "$(once ours "$WORK/sync-full.conf" full)"
compare sync/unknown-instance-none no \
  "$(once keepalived "$WORK/sync-unknown.conf")" "$(once ours "$WORK/sync-unknown.conf")"
compare sync/no-virtual-server-none no \
  "$(once keepalived "$WORK/sync-no-service.conf")" "$(once ours "$WORK/sync-no-service.conf")"
