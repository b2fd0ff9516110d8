# End-to-end LVS with real packets, every rule programmed by our ipvsadm: a client, a director and two
# real servers in network namespaces (lib.sh's nat_topology). NAT with rr and wrr, weight 0,
# persistence, a fwmark service, direct routing and tunnelling; the connection and counter listings
# compared with the reference's on the same kernel state; a save, clear and restore that still forwards.
. "$SUITES/lib.sh"

URL=http://$VIP/
SVC=$VIP:80
START=$SECONDS

# ipvs ARGS...: our ipvsadm in the director's namespace (each namespace has its own IPVS table).
ipvs() { in_ns director "$OUR_IPVSADM" "$@"; }

# ipvs_rules CHECK: our `ipvsadm -R` of the rules on stdin, in the director's namespace.
ipvs_rules() {
  local out
  if out=$(in_ns director "$OUR_IPVSADM" -R 2>&1); then pass "$1"; else fail "$1" "ipvsadm -R failed" "$out"; fi
}

# stat COLUMN ADDRESS: a column of our `-Ln --stats` on the line of a service or destination
# (3 connections, 4 packets in, 5 packets out); a fwmark service's ADDRESS is its mark.
stat() { ipvs -Ln --stats | awk -v a="$2" -v c="$1" '$2 == a { print $c; exit }'; }
stat_is() { [ "$(stat "$1" "$2")" == "$3" ]; }

# same_conns_as_reference CHECK: our -Lnc between two of the reference's. Expiry timers tick between
# runs (with dozens of entries, some timer ticks within any 0.1 s), so ours passes when it equals the
# first, or when each line equals the references' but for an expiry between theirs.
same_conns_as_reference() {
  local dir=/tmp/lnc out
  mkdir -p "$dir"
  in_ns director "$REF_IPVSADM" -Lnc >"$dir/before" 2>&1
  in_ns director "$OUR_IPVSADM" -Lnc >"$dir/ours" 2>&1
  in_ns director "$REF_IPVSADM" -Lnc >"$dir/after" 2>&1
  if cmp -s "$dir/before" "$dir/ours"; then
    pass "$1"
    return
  fi
  # Files in argument order: 1 before, 2 ours, 3 after; the expiry is the second field.
  out=$(awk '
    FNR == 1 { f++ }
    { line[f, FNR] = $0; n[f] = FNR; t = ""
      if ($2 ~ /^[0-9][0-9]:[0-9][0-9]$/) { t = $2; sub($2, "mm:ss") }
      masked[f, FNR] = $0; expiry[f, FNR] = t }
    END {
      if (n[1] != n[2] || n[2] != n[3]) { print "line counts differ: " n[1] " " n[2] " " n[3]; exit }
      for (i = 1; i <= n[2]; i++)
        if (masked[1, i] != masked[2, i] || masked[2, i] != masked[3, i] ||
            expiry[2, i] > expiry[1, i] || expiry[2, i] < expiry[3, i])
          print "reference: " line[1, i] "\nours:      " line[2, i] "\nreference: " line[3, i]
    }' "$dir/before" "$dir/ours" "$dir/after")
  if [ -z "$out" ]; then pass "$1"; else fail "$1" "our -Lnc differs from the reference's" "$out"; fi
}

# same_as_reference CHECK ARGS...: our listing and the reference's of the same kernel state are
# byte-identical. Expiry timers and the rate estimator may tick between the two runs: three tries.
same_as_reference() {
  local name=$1 try ours ref
  shift
  for try in 1 2 3; do
    ours=$(in_ns director "$OUR_IPVSADM" "$@" 2>&1)
    ref=$(in_ns director "$REF_IPVSADM" "$@" 2>&1)
    [ "$ours" == "$ref" ] && break
  done
  check_eq "$name" "$ref" "$ours"
}

if ! nat_topology; then
  fail topology "the namespaces could not be built"
  exit 1
fi
pass topology

# --- LVS-NAT, round robin, one command per rule.
check nat-add-service ipvs -A -t "$SVC" -s rr
check nat-add-rs1 ipvs -a -t "$SVC" -r "$RS1:80" -m
check nat-add-rs2 ipvs -a -t "$SVC" -r "$RS2:80" -m
check_eq nat-stats-start-at-0 "0 0" "$(stat 3 "$SVC") $(stat 3 "$RS1:80")"
check_eq nat-rr-splits-5-5 "rs1=5 rs2=5" "$(count_backends client "$URL" 10)"

# --- The connection table and the counters after those 10 requests.
check_eq nat-Lnc-lists-10 10 "$(ipvs -Lnc | grep -c " $SVC ")"
same_conns_as_reference nat-Lnc-as-reference
# The estimator folds the counters every 2 s.
check nat-stats-count-10 wait_until 5 stat_is 3 "$SVC" 10
check_eq nat-stats-per-server "5 5" "$(stat 3 "$RS1:80") $(stat 3 "$RS2:80")"
check nat-stats-packets-both-ways test "$(stat 4 "$SVC")" -gt 0 -a "$(stat 5 "$SVC")" -gt 0
same_as_reference nat-stats-as-reference -Ln --stats
same_as_reference nat-rate-as-reference -Ln --rate
check nat-zero ipvs -Z
check nat-zeroed-stats wait_until 5 stat_is 3 "$SVC" 0

# --- Weight 0: no new connections for rs2.
check weight-0 ipvs -e -t "$SVC" -r "$RS2:80" -m -w 0
check_eq weight-0-sends-nothing "rs1=4" "$(count_backends client "$URL" 4)"

# --- Weighted round robin 3:1, the rules through our -R.
check wrr-clear ipvs -C
ipvs_rules wrr-restore <<EOF
-A -t $SVC -s wrr
-a -t $SVC -r $RS1:80 -m -w 3
-a -t $SVC -r $RS2:80 -m -w 1
EOF
check_eq wrr-3-1-gives-30-10 "rs1=30 rs2=10" "$(count_backends client "$URL" 40)"

# --- Save, clear, restore: the restored table is the saved one and forwards as before.
SAVED=/tmp/lvs-traffic.rules
in_ns director "$LVS_BIN/ipvsadm-save" -n >"$SAVED"
check_eq save-n "-A -t $SVC -s wrr
-a -t $SVC -r $RS1:80 -m -w 3
-a -t $SVC -r $RS2:80 -m -w 1" "$(cat "$SAVED")"
check save-clear ipvs -C
check_eq cleared-forwards-nothing "none=2" "$(count_backends client "$URL" 2)"
check save-restore in_ns director "$LVS_BIN/ipvsadm-restore" <"$SAVED"
check_eq restored-table "$(cat "$SAVED")" "$(ipvs -Sn)"
check_eq restored-forwards-3-1 "rs1=3 rs2=1" "$(count_backends client "$URL" 4)"

# --- Persistence: one client stays on one server; the template shows in -Lnc.
check persist-clear ipvs -C
ipvs_rules persist-rules <<EOF
-A -t $SVC -s rr -p 60
-a -t $SVC -r $RS1:80 -m
-a -t $SVC -r $RS2:80 -m
EOF
PINNED=$(count_backends client "$URL" 6)
case $PINNED in
  rs1=6 | rs2=6) pass persist-pins-client ;;
  *) fail persist-pins-client "the client's 6 requests were spread: $PINNED" ;;
esac
lnc_has() { ipvs -Lnc | grep -q -- "$1"; }
check persist-template-listed lnc_has " 10\.0\.1\.2:0 *$SVC "
same_conns_as_reference persist-Lnc-as-reference
same_as_reference persist-conn-as-reference -Ln --persistent-conn

# --- Firewall mark: nft marks the VIP's HTTP packets, a -f service balances them.
check fwm-clear ipvs -C
check fwm-nft-mark in_ns director nft -f - <<EOF
table ip lvs {
  chain pre {
    type filter hook prerouting priority mangle;
    ip daddr $VIP tcp dport 80 meta mark set 1
  }
}
EOF
ipvs_rules fwm-rules <<EOF
-A -f 1 -s rr
-a -f 1 -r $RS1:80 -m
-a -f 1 -r $RS2:80 -m
EOF
check_eq fwm-rr-splits-5-5 "rs1=5 rs2=5" "$(count_backends client "$URL" 10)"
check fwm-stats-count-10 wait_until 5 stat_is 3 1 10
same_as_reference fwm-stats-as-reference -Ln --stats
in_ns director nft delete table ip lvs

# --- Direct routing and tunnelling: the real servers own the VIP and answer the client directly.
check vip-real-servers vip_real_servers
check dr-clear ipvs -C
ipvs_rules dr-rules <<EOF
-A -t $SVC -s rr
-a -t $SVC -r $RS1 -g
-a -t $SVC -r $RS2 -g
EOF
check_eq dr-rr-splits-5-5 "rs1-vip=5 rs2-vip=5" "$(count_backends client "$URL" 10)"
check dr-stats-count-10 wait_until 5 stat_is 3 "$SVC" 10
check_eq dr-no-packets-out 0 "$(stat 5 "$SVC")"
same_as_reference dr-stats-as-reference -Ln --stats
same_conns_as_reference dr-Lnc-as-reference

tunl0_rx() { in_ns "$1" cat /sys/class/net/tunl0/statistics/rx_packets; }
check tun-clear ipvs -C
ipvs_rules tun-rules <<EOF
-A -t $SVC -s rr
-a -t $SVC -r $RS1 -i
-a -t $SVC -r $RS2 -i
EOF
check_eq tun-rr-splits-5-5 "rs1-vip=5 rs2-vip=5" "$(count_backends client "$URL" 10)"
check tun-rs1-decapsulated test "$(tunl0_rx rs1)" -gt 0
check tun-rs2-decapsulated test "$(tunl0_rx rs2)" -gt 0
check tun-stats-count-10 wait_until 5 stat_is 3 "$SVC" 10
check_eq tun-no-packets-out 0 "$(stat 5 "$SVC")"
same_as_reference tun-info-as-reference -Ln --tun-info

echo "lvs-traffic: $((SECONDS - START)) s"
