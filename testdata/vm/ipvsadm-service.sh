# ipvsadm.service's helper (dist/lib/ipvsadm-service, as scripts/install writes it, pointed at our
# binaries) against the kernel: start flushes and loads the rules file and starts the sync daemons
# of DAEMON/IFACE/SYNCID; reload (--sync) applies an edited file without touching what stays and
# refuses a broken file leaving the table alone; stop saves with SAVE_ON_STOP=true, stops the
# daemons and flushes unless FLUSH_ON_STOP=false. The table is read back with Debian's ipvsadm.
. "$SUITES/lib.sh"

modprobe ip_vs
WORK=$(mktemp -d)
HELPER=$WORK/ipvsadm-service
sed "s|^SBIN=/usr/sbin\$|SBIN=$LVS_BIN|" /opt/lvs/dist/ipvsadm-service >"$HELPER"
chmod 755 "$HELPER"
export IPVSADM_RULES=$WORK/ipvsadm.rules
ref() { "$REF_IPVSADM" "$@"; }

"$OUR_IPVSADM" -C
"$OUR_IPVSADM" -A -t 10.0.0.9:80 -s wlc
printf '%s\n' '# ipvsadm.rules' '-A -t 10.0.0.1:80 -s rr' '-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1' \
  '-a -t 10.0.0.1:80 -r 10.0.1.2:80 -m -w 2' >"$IPVSADM_RULES"
check start "$HELPER" start
check_eq start-replaces-the-table "-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1
-a -t 10.0.0.1:80 -r 10.0.1.2:80 -m -w 2" "$(ref -Sn)"

# Reload: one weight changed, one server gone, a service added; --sync edits in place.
printf '%s\n' '-A -t 10.0.0.1:80 -s rr' '-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 5' \
  '-A -u 10.0.0.1:53 -s wlc' >"$IPVSADM_RULES"
check reload "$HELPER" reload
check_eq reload-applies-the-file "-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 5
-A -u 10.0.0.1:53 -s wlc" "$(ref -Sn)"
before=$(ref -Sn)
printf '%s\n' '-A -t 10.0.0.1:80 -s rr' '-a -t 10.0.0.2:80 -r 10.0.1.1:80 -m' >"$IPVSADM_RULES"
check_fails reload-refuses-a-broken-file "$HELPER" reload
check_eq broken-file-changes-nothing "$before" "$(ref -Sn)"

# Stop with SAVE_ON_STOP: the table goes to the file (Debian's header, ipvsadm-save -n), then away.
check stop-saving env SAVE_ON_STOP=true "$HELPER" stop
check_eq saved-file "# ipvsadm.rules
$before" "$(cat "$IPVSADM_RULES")"
check_eq stop-flushes "" "$(ref -Sn)"
check start-from-saved "$HELPER" start
check_eq saved-file-restores "$before" "$(ref -Sn)"
check stop-keeping env FLUSH_ON_STOP=false "$HELPER" stop
check_eq flush-on-stop-false-keeps-the-table "$before" "$(ref -Sn)"

# Sync daemons as Debian's DAEMON/IFACE/SYNCID say.
ip link add vsync0 type veth peer name vsync1
ip link set vsync0 up
ip link set vsync1 up
check start-with-daemons env DAEMON=both IFACE=vsync0 SYNCID=7 "$HELPER" start
check_eq daemons-running "master sync daemon (mcast=vsync0, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)
backup sync daemon (mcast=vsync0, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)" "$(ref -L --daemon)"
check stop-with-daemons env DAEMON=both IFACE=vsync0 "$HELPER" stop
check_eq daemons-stopped "" "$(ref -L --daemon)"
check_eq table-flushed "" "$(ref -Sn)"
check_fails bad-daemon-setting env DAEMON=bogus "$HELPER" start
rm -f "$IPVSADM_RULES"
check missing-rules-file-is-not-an-error "$HELPER" start
ip link del vsync0
rm -rf "$WORK"
