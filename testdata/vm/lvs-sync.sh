# lvs_sync_daemon: vrrpd's VRRP process (-P) against keepalived 2.2.7's, on the real kernel.
#
# One director alone on a bridge runs the VRRP instance named by lvs_sync_daemon; it starts in BACKUP
# and becomes MASTER when no advert comes. `ipvsadm -L --daemon` must be the same under both daemons
# in BACKUP, in MASTER, after a reload (same or changed settings), and after SIGTERM; also with a
# master daemon left over from an earlier run. For the default settings
# (sync id = the VRID), every option (id, maxlen, port, ttl, group), and the deprecated
# per-instance lvs_sync_daemon_interface. A configuration without lvs_sync_daemon starts no daemon.
# vm-timeout: 600
. "$SUITES/lib.sh"
WORK=/tmp/lvs-sync
mkdir -p "$WORK"

daemons() { in_ns sd "$REF_IPVSADM" -L --daemon 2>&1; }

# start_vrrp WHICH CONF: keepalived or ours, VRRP only, in the foreground, in namespace sd.
start_vrrp() {
  local which=$1 conf=$2
  DAEMON_LOG=$WORK/$which-$(basename "$conf").log
  if [ "$which" = keepalived ]; then
    ip netns exec sd /usr/sbin/keepalived -P -n -l -D -f "$conf" -p "$WORK/ka.pid" -r "$WORK/ka-v.pid" >"$DAEMON_LOG" 2>&1 &
  else
    ip netns exec sd "$LVS_BIN/vrrpd" -P -n -l -D -f "$conf" -p "$WORK/our.pid" -r "$WORK/our-v.pid" >"$DAEMON_LOG" 2>&1 &
  fi
  DAEMON_PID=$!
}

has_vip() { in_ns sd ip -4 addr show dev eth0 | grep -q ' 10\.0\.5\.100/'; }

# run WHICH CONF RELOAD_CONF LEFTOVER: one daemon through BACKUP, MASTER, a reload to RELOAD_CONF (if
# any) and stop; prints the daemon lists of each stage. LEFTOVER "leftover": a master daemon an
# earlier run left behind is running before the start.
run() {
  local which=$1 conf=$2 reload=$3 live=$WORK/live.conf
  cp "$conf" "$live"
  if [ "$4" = leftover ]; then
    in_ns sd "$REF_IPVSADM" --start-daemon master --mcast-interface eth0 --syncid 99 >/dev/null 2>&1
  fi
  start_vrrp "$which" "$live"
  # advert_int 2: BACKUP for 7 s before it takes over.
  sleep 2.5
  echo "== backup"
  daemons
  wait_until 20 has_vip
  sleep 1
  echo "== master"
  daemons
  if [ -n "$reload" ]; then
    cp "$reload" "$live"
    kill -HUP "$DAEMON_PID"
    sleep 3
    echo "== reloaded"
    daemons
  fi
  stop_daemon
  echo "== stopped"
  daemons
  cp "$DAEMON_LOG" "$WORK/last-$which.log"
  # Whatever is left must not leak into the next run.
  in_ns sd "$REF_IPVSADM" --stop-daemon master >/dev/null 2>&1
  in_ns sd "$REF_IPVSADM" --stop-daemon backup >/dev/null 2>&1
}

# compare CHECK CONF [RELOAD_CONF [LEFTOVER]]
compare() {
  local name=$1 conf=$2 reload=$3 ours theirs
  theirs=$(run keepalived "$conf" "$reload" "$4")
  ours=$(run ours "$conf" "$reload" "$4")
  if [ "$ours" == "$theirs" ] && printf '%s\n' "$ours" | grep -q 'sync daemon'; then
    pass "$name"
  else
    fail "$name" "daemon lists differ (or none ran)" "keepalived:" "$theirs" "ours:" "$ours" \
      "our log:" "$(grep -v 'ARP' "$WORK/last-ours.log" | tail -n 25)" "keepalived log:" "$(grep -v 'ARP' "$WORK/last-keepalived.log" | tail -n 25)"
  fi
}

instance() {
  cat <<EOF
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 2
  $1
  virtual_ipaddress {
    10.0.5.100/24
  }
}
EOF
}

new_bridge br-sync
new_ns sd
veth_into eth0 sd 10.0.5.1/24 br-sync
modprobe ip_vs

{
  printf 'global_defs {\n  lvs_sync_daemon eth0 VI_1\n}\n'
  instance
} >"$WORK/default.conf"
{
  printf 'global_defs {\n  lvs_sync_daemon eth0 inst VI_1 id 7 maxlen 1200 port 9000 ttl 2 group 239.1.2.3\n}\n'
  instance
} >"$WORK/options.conf"
{
  printf 'global_defs {\n  lvs_sync_daemon eth0 VI_1 id 8 port 9100\n}\n'
  instance
} >"$WORK/reloaded.conf"
instance "lvs_sync_daemon_interface eth0" >"$WORK/deprecated.conf"
{
  printf 'global_defs {\n  lvs_sync_daemon eth0 VI_9\n}\n'
  instance
} >"$WORK/unknown.conf"

compare default-settings "$WORK/default.conf"
compare every-option "$WORK/options.conf"
compare reload-changes-settings "$WORK/default.conf" "$WORK/reloaded.conf"
compare deprecated-interface-keyword "$WORK/deprecated.conf"
compare leftover-daemon "$WORK/default.conf" "" leftover
compare reload-unchanged "$WORK/default.conf" "$WORK/default.conf"

# An instance that does not exist clears lvs_sync_daemon: only the leftover clean-up, if any.
unknown() {
  local which=$1
  start_vrrp "$which" "$WORK/unknown.conf"
  wait_until 20 has_vip
  sleep 1
  daemons
  stop_daemon
  in_ns sd "$REF_IPVSADM" --stop-daemon master >/dev/null 2>&1
  in_ns sd "$REF_IPVSADM" --stop-daemon backup >/dev/null 2>&1
}
check_eq unknown-instance-no-daemon "$(unknown keepalived)" "$(unknown ours)"

# Without lvs_sync_daemon, a daemon started by hand is left alone.
instance >"$WORK/none.conf"
in_ns sd "$REF_IPVSADM" --start-daemon backup --mcast-interface eth0 --syncid 3
start_vrrp ours "$WORK/none.conf"
wait_until 20 has_vip
check_eq no-keyword-leaves-daemons-alone "backup sync daemon (mcast=eth0, syncid=3, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)" "$(daemons)"
stop_daemon
