# vrrpd's checker process (-C) against keepalived 2.2.7's, on the real kernel.
#
# 1. Programming: for a set of configurations (address, fwmark, IPv6 and group services; NAT, DR and
#    tunnel methods; persistence, flags, thresholds, inhibit, sorry server, quorum, alpha) each daemon
#    runs alone in a namespace until its table settles; `ipvsadm -Sn` must be identical, and each
#    must remove its services when stopped and leave a rule it did not create alone.
# 2. Traffic: the NAT topology of lib.sh with HTTP_GET on both real servers: requests split; one
#    httpd stopped → it leaves the table within the check time and traffic goes to the other; started
#    again → back. The same scenario under keepalived gives the same `ipvsadm -Sn` at every stage.
# 3. Reload: SIGHUP with a changed weight and an added virtual server changes exactly those, and
#    keeps the connection counters of the service that stayed.
# 5. PING_CHECK (IPv4 and IPv6: a server that answers, one that ignores echoes, an address nobody
#    has, connect_ip) and net.ipv4.ping_group_range; lvs_timeouts at start, reload and stop;
#    lvs_flush; lvs_flush_on_stop and lvs_flush_on_stop VS: the same as keepalived's.
# 6. SSL_GET against `openssl s_server -www` (a self-signed certificate of another name: neither
#    daemon verifies it): a passing URL, a status_code that does not match, a plain HTTP server, a
#    closed port, a regex that matches the status page and one with regex_no_match; servers rustls
#    cannot reach and keepalived does (TLS 1.0; TLS 1.2 with RSA or DH key exchange only, with DH
#    and ChaCha20 only, or with CBC ciphers only; x448, P-521 or ffdhe2048 as the only group; a
#    certificate of a P-521 key) and one of TLS 1.0 with ECDHE only (keepalived does not); the same table as
#    keepalived's.
# 7. omega: the notify_down and quorum_down scripts at stop, as keepalived runs them.
# vm-timeout: 1200
. "$SUITES/lib.sh"
IPVSADM=$REF_IPVSADM
WORK=/tmp/lvs-daemon
mkdir -p "$WORK"

# start_daemon NS WHICH CONF: keepalived or ours, checkers only, in the foreground, as a child of
# this shell (ip netns exec execs the daemon, so DAEMON_PID is the daemon's pid).
start_daemon() {
  local ns=$1 which=$2 conf=$3 log
  log=$WORK/$2-$(basename "$3").log
  if [ "$which" = keepalived ]; then
    ip netns exec "$ns" /usr/sbin/keepalived -C -n -l -D -f "$conf" -p "$WORK/ka.pid" -c "$WORK/ka-c.pid" >"$log" 2>&1 &
  else
    ip netns exec "$ns" "$LVS_BIN/vrrpd" -C -n -l -D -f "$conf" -p "$WORK/our.pid" -c "$WORK/our-c.pid" >"$log" 2>&1 &
  fi
  DAEMON_PID=$!
  DAEMON_LOG=$log
}

# check_table CHECK EXPECTED: the table of lvsd is EXPECTED; on failure the daemon's log is shown.
check_table() {
  local actual
  actual=$(table lvsd)
  if [ "$2" == "$actual" ]; then
    pass "$1"
  else
    fail "$1" "unexpected table" "expected:" "$2" "actual:" "$actual" "log:" "$(tail -n 30 "$DAEMON_LOG")"
  fi
}

table() { in_ns "$1" "$IPVSADM" -Sn; }

# settle NS: wait until the table is not empty and the same over one second; print it.
settle() {
  local ns=$1 previous="" current i=0
  while [ $i -lt 30 ]; do
    current=$(table "$ns")
    if [ -n "$current" ] && [ "$current" = "$previous" ]; then break; fi
    previous=$current
    sleep 1
    i=$((i + 1))
  done
  printf '%s\n' "$current"
}

# --- 1. Programming ---------------------------------------------------------------------------

write_confs() {
  cat >"$WORK/nat.conf" <<'EOF'
virtual_server 10.0.1.100 80 {
  protocol TCP
  lb_algo rr
  lb_kind NAT
  persistence_timeout 600
  persistence_granularity 255.255.255.0
  real_server 10.0.2.11 8080 {
    weight 3
    uthreshold 100
    lthreshold 10
  }
  real_server 10.0.2.12 8080 {
    weight 0
  }
}
EOF
  cat >"$WORK/udp-dr.conf" <<'EOF'
virtual_server 10.0.1.101 53 {
  lb_kind DR
  ops
  real_server 10.0.2.11 53 {
  }
  real_server 10.0.2.12 53 {
    lvs_method NAT
  }
}
EOF
  cat >"$WORK/fwmark-tun.conf" <<'EOF'
virtual_server fwmark 5 {
  lvs_sched sh
  sh-port
  sh-fallback
  lvs_method TUN type gue port 6080 csum
  persistence_timeout
  real_server 10.0.2.11 {
  }
  real_server 10.0.2.12 {
    lvs_method TUN type gre
  }
  real_server 10.0.2.13 {
    lvs_method TUN
  }
}
EOF
  cat >"$WORK/ipv6.conf" <<'EOF'
virtual_server 2001:db8::100 443 {
  protocol TCP
  lb_algo wrr
  persistence_timeout 30
  persistence_granularity 64
  real_server 2001:db8:1::11 443 {
    weight 2
  }
  real_server 2001:db8:1::12 443 {
  }
}
virtual_server fwmark 6 {
  ip_family inet6
  real_server 2001:db8:1::11 {
  }
}
EOF
  cat >"$WORK/group.conf" <<'EOF'
virtual_server_group web {
  10.0.1.100-102 80
  10.0.3.1 8080
  fwmark 9
}
virtual_server group web {
  protocol TCP
  lb_algo sh
  sh-port
  real_server 10.0.2.11 80 {
  }
  real_server 10.0.2.12 80 {
    weight 4
  }
}
EOF
  cat >"$WORK/sorry.conf" <<'EOF'
virtual_server 10.0.1.100 80 {
  protocol TCP
  quorum 2
  sorry_server 10.0.2.99 80
  sorry_server_inhibit
  inhibit_on_failure
  real_server 10.0.2.11 80 {
  }
  real_server 10.0.2.12 80 {
  }
}
virtual_server 10.0.1.101 80 {
  protocol SCTP
  lb_algo lc
  sorry_server 10.0.2.98 80
  sorry_server_lvs_method DR
  real_server 10.0.2.11 80 {
  }
}
EOF
  # Checkers that can never succeed (nothing listens on 10.0.2.11:9): alpha keeps the server out
  # from the start, inhibit_on_failure keeps it at weight 0; the quorum of the second service is
  # lost once the check fails, and its sorry server takes over.
  cat >"$WORK/failing.conf" <<'EOF'
virtual_server 10.0.1.100 80 {
  protocol TCP
  alpha
  real_server 10.0.2.11 80 {
    inhibit_on_failure
    TCP_CHECK {
      connect_port 9
      connect_timeout 1
    }
  }
  real_server 10.0.2.12 80 {
    TCP_CHECK {
      connect_port 9
      connect_timeout 1
    }
  }
  real_server 10.0.2.13 80 {
  }
}
virtual_server 10.0.1.101 80 {
  protocol TCP
  quorum 2
  hysteresis 0
  sorry_server 10.0.2.99 80
  delay_loop 2
  real_server 10.0.2.11 80 {
    TCP_CHECK {
      connect_port 9
      connect_timeout 1
      retry 1
      delay_before_retry 1
    }
  }
  real_server 10.0.2.12 80 {
  }
}
EOF
  # Hysteresis keeps quorum when one of three fails (3 >= 2+1 at start, 2 >= 2-1 after); a
  # MISC_CHECK with misc_dynamic sets the weight from the exit status (5 - 2 = 3), another that
  # exits 1 takes its server out.
  printf '#!/bin/sh\nexit 5\n' >"$WORK/exit5.sh"
  printf '#!/bin/sh\nexit 1\n' >"$WORK/exit1.sh"
  chmod 755 "$WORK/exit5.sh" "$WORK/exit1.sh"
  cat >"$WORK/checks.conf" <<EOF
virtual_server 10.0.1.102 80 {
  protocol TCP
  quorum 2
  hysteresis 1
  sorry_server 10.0.2.99 80
  delay_loop 2
  real_server 10.0.2.11 80 {
    TCP_CHECK {
      connect_port 9
      connect_timeout 1
      retry 0
    }
  }
  real_server 10.0.2.12 80 {
  }
  real_server 10.0.2.13 80 {
  }
}
virtual_server 10.0.1.103 80 {
  protocol TCP
  delay_loop 2
  real_server 10.0.2.11 80 {
    MISC_CHECK {
      misc_path $WORK/exit5.sh
      misc_dynamic
    }
  }
  real_server 10.0.2.12 80 {
    MISC_CHECK {
      misc_path $WORK/exit1.sh
    }
  }
  real_server 10.0.2.13 80 {
  }
}
EOF
  # FILE_CHECK, UDP_CHECK, DNS_CHECK and SMTP_CHECK: a weighted file adds value × weight (1 + 2 × 3),
  # an unweighted file holding 1 takes its server out; a UDP datagram refused by the director's own
  # closed port fails, one sent into silence succeeds unless a reply is required; DNS and SMTP to
  # closed ports fail.
  printf '2\n' >"$WORK/weighted.state"
  printf '1\n' >"$WORK/unweighted.state"
  cat >"$WORK/more-checks.conf" <<EOF
track_file weighted {
  file $WORK/weighted.state
  weight 3
}
track_file unweighted {
  file $WORK/unweighted.state
  weight 0
}
virtual_server 10.0.1.104 80 {
  protocol TCP
  delay_loop 2
  real_server 10.0.2.11 80 {
    FILE_CHECK {
      track_file weighted
    }
  }
  real_server 10.0.2.12 80 {
    FILE_CHECK {
      track_file unweighted
    }
  }
  real_server 10.0.2.13 80 {
    UDP_CHECK {
      connect_ip 10.0.2.1
      connect_port 9
      connect_timeout 1
      retry 0
    }
  }
  real_server 10.0.2.14 80 {
    UDP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
  real_server 10.0.2.15 80 {
    UDP_CHECK {
      require_reply 41
      connect_timeout 1
      retry 0
    }
  }
  real_server 10.0.2.16 80 {
    DNS_CHECK {
      connect_ip 10.0.2.1
      connect_port 53
      connect_timeout 1
      retry 0
    }
  }
  real_server 10.0.2.17 80 {
    SMTP_CHECK {
      connect_ip 10.0.2.1
      connect_port 25
      connect_timeout 1
      retry 0
    }
  }
}
EOF
}

write_confs
new_ns lvsd || { fail namespace "cannot create the namespace"; exit 1; }
in_ns lvsd ip link add dummy0 type dummy
in_ns lvsd ip addr add 10.0.2.1/24 dev dummy0
in_ns lvsd ip link set dummy0 up

for conf in nat udp-dr fwmark-tun ipv6 group sorry failing checks more-checks; do
  # A rule nobody configured: both daemons must leave it alone.
  in_ns lvsd "$IPVSADM" -A -t 192.0.2.1:1 -s rr
  wait_for=0
  case $conf in failing | checks | more-checks) wait_for=8 ;; esac
  start_daemon lvsd keepalived "$WORK/$conf.conf"
  sleep "$wait_for"
  reference=$(settle lvsd)
  stop_daemon
  check_table "$conf/keepalived-leaves-only-foreign-rules" "-A -t 192.0.2.1:1 -s rr"
  start_daemon lvsd ours "$WORK/$conf.conf"
  sleep "$wait_for"
  ours=$(settle lvsd)
  stop_daemon
  if [ "$ours" = "-A -t 192.0.2.1:1 -s rr" ]; then
    fail "$conf/programs-something" "only the foreign rule" "$(tail -n 30 "$DAEMON_LOG")"
  fi
  check_eq "$conf/same-table" "$reference" "$ours"
  # What the comparisons above rest on, spelled out for the configurations with checkers.
  case $conf in
    failing) check "$conf/sorry-server-took-over" grep -q -- '-a -t 10.0.1.101:80 -r 10.0.2.99:80 -m -w 1' <<<"$ours" ;;
    checks) check "$conf/dynamic-weight-3" grep -q -- '-a -t 10.0.1.103:80 -r 10.0.2.11:80 -m -w 3' <<<"$ours" ;;
    more-checks)
      check "$conf/file-weight-7" grep -q -- '-a -t 10.0.1.104:80 -r 10.0.2.11:80 -m -w 7' <<<"$ours"
      check "$conf/silent-udp-in" grep -q -- '-r 10.0.2.14:80' <<<"$ours"
      check "$conf/failed-out" test "$(grep -c -- '-a -t 10.0.1.104:80' <<<"$ours")" = 2
      ;;
  esac
  check_table "$conf/ours-leaves-only-foreign-rules" "-A -t 192.0.2.1:1 -s rr"
  in_ns lvsd "$IPVSADM" -C
done

# Reload by difference: the same SIGHUP from A to B under both daemons gives the same table.
cat >"$WORK/reload-a.conf" <<'EOF'
virtual_server 10.0.1.100 80 {
  protocol TCP
  lb_algo rr
  real_server 10.0.2.11 80 {
    weight 2
  }
  real_server 10.0.2.12 80 {
  }
}
virtual_server 10.0.1.101 80 {
  protocol TCP
  real_server 10.0.2.11 80 {
  }
}
virtual_server fwmark 3 {
  real_server 10.0.2.13 80 {
  }
}
EOF
cat >"$WORK/reload-b.conf" <<'EOF'
virtual_server 10.0.1.100 80 {
  protocol TCP
  lb_algo wrr
  real_server 10.0.2.11 80 {
    weight 5
  }
  real_server 10.0.2.13 80 {
    lvs_method DR
  }
}
virtual_server 10.0.1.102 80 {
  protocol UDP
  real_server 10.0.2.12 80 {
  }
}
virtual_server fwmark 3 {
  persistence_timeout 100
  real_server 10.0.2.13 80 {
  }
}
EOF
for which in keepalived ours; do
  cp "$WORK/reload-a.conf" "$WORK/reload.conf"
  start_daemon lvsd "$which" "$WORK/reload.conf"
  settle lvsd >/dev/null
  cp "$WORK/reload-b.conf" "$WORK/reload.conf"
  kill -HUP "$DAEMON_PID"
  sleep 3
  eval "reloaded_$which=\$(settle lvsd)"
  stop_daemon
  in_ns lvsd "$IPVSADM" -C
done
# shellcheck disable=SC2154 # set by eval above
check_eq reload-differential/same-table "$reloaded_keepalived" "$reloaded_ours"
check reload-differential/b-was-applied grep -q -- '-A -u 10.0.1.102:80 -s wlc' <<<"$reloaded_ours"

# --- 2. Traffic with HTTP_GET --------------------------------------------------------------------

# write_http_conf WEIGHT2 [EXTRA]: the HTTP_GET configuration, rs2 with WEIGHT2, EXTRA appended.
write_http_conf() {
  cat >"$WORK/http.conf" <<EOF
virtual_server $VIP 80 {
  protocol TCP
  lb_algo rr
  lb_kind NAT
  delay_loop 1
  real_server $RS1 80 {
    HTTP_GET {
      url {
        path /index.html
        status_code 200
      }
      connect_timeout 1
      retry 1
      delay_before_retry 1
    }
  }
  real_server $RS2 80 {
    weight $1
    HTTP_GET {
      url {
        path /index.html
      }
      connect_timeout 1
      retry 1
      delay_before_retry 1
    }
  }
}
${2:-}
EOF
}
write_http_conf 1

if ! nat_topology; then
  fail topology "the namespaces could not be built"
  exit 1
fi
pass topology

has_rs() { in_ns director "$IPVSADM" -Ln | grep -q "$1:80"; }
lacks_rs() { ! has_rs "$1"; }

# scenario WHICH: prints the table at each stage (started, rs1 down, rs1 back) as "stage:table".
scenario() {
  local which=$1 start
  start_daemon director "$which" "$WORK/http.conf"
  wait_until 20 has_rs "$RS1" && wait_until 20 has_rs "$RS2"
  echo "STARTED"
  settle director
  if [ "$which" = ours ]; then
    check_eq ours/requests-split "rs1=5 rs2=5" "$(count_backends client "http://$VIP/" 10)"
  fi
  kill "$(httpd_pid rs1)"
  start=$(date +%s)
  if wait_until 15 lacks_rs "$RS1"; then
    [ "$which" = ours ] && pass "ours/rs1-leaves-after-$(($(date +%s) - start))s"
  else
    fail "$which/rs1-leaves" "rs1 still in the table after 15 s" "$(in_ns director "$IPVSADM" -Ln)"
  fi
  echo "RS1-DOWN"
  table director
  if [ "$which" = ours ]; then
    check_eq ours/only-rs2-serves "rs2=4" "$(count_backends client "http://$VIP/" 4)"
  fi
  start_httpd rs1 "$RS1" rs1
  if ! wait_until 15 has_rs "$RS1"; then
    fail "$which/rs1-returns" "rs1 not back after 15 s" "$(in_ns director "$IPVSADM" -Ln)"
  fi
  echo "RS1-BACK"
  table director
  if [ "$which" = ours ]; then
    check_eq ours/split-again "rs1=5 rs2=5" "$(count_backends client "http://$VIP/" 10)"
  fi
  stop_daemon
}

ours=$(scenario ours)
check_eq ours/removes-its-rules-at-stop "" "$(in_ns director "$IPVSADM" -Sn)"
reference=$(scenario keepalived)
check_eq same-tables-at-every-stage "$reference" "$ours"

# --- 2b. All down: the sorry server serves -------------------------------------------------------

new_ns sorry && veth_into eth0 sorry 10.0.2.13/24 br-back && in_ns sorry ip route add default via 10.0.2.1
start_httpd sorry 10.0.2.13 sorry || fail sorry/topology "no sorry server"

cat >"$WORK/sorry-http.conf" <<EOF
virtual_server $VIP 80 {
  protocol TCP
  lb_algo rr
  delay_loop 1
  sorry_server 10.0.2.13 80
  real_server $RS1 80 {
    HTTP_GET {
      url {
        path /
      }
      connect_timeout 1
      retry 0
    }
  }
  real_server $RS2 80 {
    inhibit_on_failure
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
}
EOF

has_sorry() { in_ns director "$IPVSADM" -Ln | grep -q '10.0.2.13:80'; }
lacks_sorry() { ! has_sorry; }
# Both real servers checked up again (each checker passes on its own schedule).
pool_back() {
  local rules
  rules=$(in_ns director "$IPVSADM" -Sn)
  grep -q -- "-r $RS1:80 -m -w 1\$" <<<"$rules" && grep -q -- "-r $RS2:80 -m -w 1\$" <<<"$rules"
}

# sorry_scenario WHICH: tables with both up, both down (sorry server in), both back.
sorry_scenario() {
  local which=$1
  start_daemon director "$which" "$WORK/sorry-http.conf"
  wait_until 20 has_rs "$RS1" && wait_until 20 has_rs "$RS2"
  echo "STARTED"
  settle director
  kill "$(httpd_pid rs1)" "$(httpd_pid rs2)"
  wait_until 15 has_sorry || fail "$which/sorry-in" "no sorry server after 15 s" "$(in_ns director "$IPVSADM" -Ln)"
  sleep 3
  echo "ALL-DOWN"
  table director
  if [ "$which" = ours ]; then
    check_eq ours/sorry-serves "sorry=3" "$(count_backends client "http://$VIP/" 3)"
  fi
  start_httpd rs1 "$RS1" rs1 && start_httpd rs2 "$RS2" rs2
  wait_until 15 lacks_sorry || fail "$which/sorry-out" "sorry server still in after 15 s" "$(in_ns director "$IPVSADM" -Ln)"
  wait_until 15 pool_back || fail "$which/pool-back" "both real servers not back after 15 s" "$(in_ns director "$IPVSADM" -Ln)"
  echo "BACK"
  table director
  if [ "$which" = ours ]; then
    check_eq ours/pool-serves-again "rs1=3 rs2=3" "$(count_backends client "http://$VIP/" 6)"
  fi
  stop_daemon
}

ours=$(sorry_scenario ours)
reference=$(sorry_scenario keepalived)
check_eq sorry/same-tables-at-every-stage "$reference" "$ours"

# --- 3. Reload ---------------------------------------------------------------------------------

start_daemon director ours "$WORK/http.conf"
wait_until 20 has_rs "$RS1" && wait_until 20 has_rs "$RS2"
count_backends client "http://$VIP/" 6 >/dev/null
# The kernel folds the per-CPU counters into the listed ones every 2 s.
sleep 3
before=$(in_ns director "$IPVSADM" -Ln --stats -t "$VIP:80" | awk '/TCP/ {print $3}')
write_http_conf 3 "virtual_server $VIP 8080 {
  protocol TCP
  real_server $RS1 80 {
  }
}"
kill -HUP "$DAEMON_PID"
if wait_until 10 in_ns director bash -c "$IPVSADM -Sn | grep -q ':8080'"; then
  pass reload/adds-the-new-service
else
  fail reload/adds-the-new-service "no :8080 service" "$(in_ns director "$IPVSADM" -Sn)"
fi
check_eq reload/new-weight "3" "$(in_ns director "$IPVSADM" -Ln -t "$VIP:80" | awk -v rs="$RS2:80" '$2 == rs {print $4}')"
after=$(in_ns director "$IPVSADM" -Ln --stats -t "$VIP:80" | awk '/TCP/ {print $3}')
if [ -n "$before" ] && [ "$before" -ge 6 ] && [ "$after" -ge "$before" ]; then
  pass reload/keeps-counters
else
  fail reload/keeps-counters "connections before $before, after $after"
fi
stop_daemon
check_eq reload/removes-its-rules-at-stop "" "$(in_ns director "$IPVSADM" -Sn)"

# A configuration that cannot be read changes nothing.
start_daemon director ours "$WORK/http.conf"
wait_until 20 has_rs "$RS1" && wait_until 20 has_rs "$RS2"
before=$(table director)
cp "$WORK/http.conf" "$WORK/http.good"
printf 'virtual_server 10.0.1.100 81 {\n  lb_algo\n}\n' >>"$WORK/http.conf"
kill -HUP "$DAEMON_PID"
sleep 3
check_eq reload/broken-config-changes-nothing "$before" "$(table director)"
check reload/broken-config-keeps-running kill -0 "$DAEMON_PID"
stop_daemon
cp "$WORK/http.good" "$WORK/http.conf"

# --- 4. Both daemons in one vrrpd (no -C, no -P): the checker child programs IPVS and stops with
# its parent.
ip netns exec director "$LVS_BIN/vrrpd" -n -l -f "$WORK/http.conf" -p "$WORK/both.pid" -r "$WORK/both-r.pid" \
  -c "$WORK/both-c.pid" >"$WORK/both.log" 2>&1 &
DAEMON_PID=$!
DAEMON_LOG=$WORK/both.log
if wait_until 20 has_rs "$RS1"; then pass both/checker-child-programs; else fail both/checker-child-programs "no rs1" "$(tail -n 20 "$DAEMON_LOG")"; fi
# SIGHUP to the parent reaches the checker child.
write_http_conf 1 "virtual_server $VIP 8081 {
  protocol TCP
  real_server $RS2 80 {
  }
}"
kill -HUP "$DAEMON_PID"
if wait_until 10 in_ns director bash -c "$IPVSADM -Sn | grep -q ':8081'"; then
  pass both/reload-reaches-the-checker-child
else
  fail both/reload-reaches-the-checker-child "no :8081 service" "$(in_ns director "$IPVSADM" -Sn)" "$(tail -n 20 "$DAEMON_LOG")"
fi
stop_daemon
wait_until 5 bash -c "[ -z \"\$(ip netns exec director $IPVSADM -Sn)\" ]"
check_eq both/rules-removed-with-the-parent "" "$(table director)"

# --- 5. PING_CHECK, lvs_timeouts, lvs_flush, lvs_flush_on_stop -----------------------------------

# Real servers for PING_CHECK: 10.0.3.11 (2001:db8:3::11) answers, 10.0.4.12 (2001:db8:4::12)
# ignores echo requests, 10.0.2.50 (2001:db8:2::50) is nobody on the dummy link.
ping_peer() {
  local ns=$1 link=$2 net4=$3 net6=$4
  new_ns "$ns"
  ip link add "$link" type veth peer name eth0 netns "$ns"
  ip link set "$link" netns lvsd
  in_ns lvsd ip addr add "$net4.1/24" dev "$link"
  in_ns lvsd ip -6 addr add "$net6::1/64" dev "$link" nodad
  in_ns lvsd ip link set "$link" up
  in_ns "$ns" ip addr add "$net4.$5/24" dev eth0
  in_ns "$ns" ip -6 addr add "$net6::$5/64" dev eth0 nodad
  in_ns "$ns" ip link set eth0 up
}
ping_peer pinged ping-a 10.0.3 2001:db8:3 11
ping_peer mute ping-b 10.0.4 2001:db8:4 12
in_ns mute sysctl -qw net.ipv4.icmp_echo_ignore_all=1
in_ns mute sysctl -qw net.ipv6.icmp.echo_ignore_all=1
in_ns lvsd ip -6 addr add 2001:db8:2::1/64 dev dummy0 nodad
if wait_until 5 in_ns lvsd ping -c 1 -W 1 10.0.3.11 && ! in_ns lvsd ping -c 1 -W 1 10.0.4.12; then
  pass ping/topology
else
  fail ping/topology "10.0.3.11 must answer and 10.0.4.12 not"
fi

cat >"$WORK/ping.conf" <<'EOF'
virtual_server 10.0.1.105 80 {
  protocol TCP
  delay_loop 2
  real_server 10.0.3.11 80 {
    PING_CHECK {
      connect_timeout 1
      retry 0
    }
  }
  real_server 10.0.4.12 80 {
    PING_CHECK {
      connect_timeout 1
      retry 0
    }
  }
  real_server 10.0.2.50 80 {
    PING_CHECK {
      connect_timeout 1
      retry 0
    }
  }
  real_server 10.0.2.51 80 {
    PING_CHECK {
      connect_ip 10.0.3.11
      connect_timeout 1
      retry 0
    }
  }
}
virtual_server 2001:db8::105 80 {
  protocol TCP
  delay_loop 2
  real_server 2001:db8:3::11 80 {
    PING_CHECK {
      connect_timeout 1
      retry 0
    }
  }
  real_server 2001:db8:4::12 80 {
    PING_CHECK {
      connect_timeout 1
      retry 0
    }
  }
  real_server 2001:db8:2::50 80 {
    PING_CHECK {
      connect_timeout 1
      retry 0
    }
  }
}
EOF
group_range() { in_ns lvsd cat /proc/sys/net/ipv4/ping_group_range | tr '\t' ' '; }
range_before=$(group_range)
for which in keepalived ours; do
  start_daemon lvsd "$which" "$WORK/ping.conf"
  sleep 8
  eval "ping_table_$which=\$(settle lvsd)"
  eval "ping_range_$which=\$(group_range)"
  stop_daemon
  eval "ping_range_after_$which=\$(group_range)"
  check_table "ping/$which-removes-its-services" ""
done
# shellcheck disable=SC2154 # set by eval above
check_eq ping/same-table "$ping_table_keepalived" "$ping_table_ours"
for rs in 10.0.3.11 10.0.2.51 '[2001:db8:3::11]'; do
  check "ping/$rs-in" grep -qF -- "-r $rs:80" <<<"$ping_table_ours"
done
check ping/others-out test "$(grep -c -- '-a ' <<<"$ping_table_ours")" = 3
# shellcheck disable=SC2154
check_eq ping/group-range-while-running "$ping_range_keepalived" "$ping_range_ours"
check_eq ping/group-range-widened "0 0" "$ping_range_ours"
# shellcheck disable=SC2154
check_eq ping/group-range-after-stop "$ping_range_after_keepalived" "$ping_range_after_ours"
check_eq ping/group-range-put-back "$range_before" "$ping_range_after_ours"

# lvs_timeouts at start (the others keep the kernel's values), after reloads that change it (the
# kernel's own values for those not configured), drop it (the kernel's own back) and set it again,
# and after stop (the kernel's own back); lvs_flush at start only (a foreign rule added while
# running survives the reloads).
timeouts() { in_ns lvsd "$IPVSADM" -L --timeout; }
globals_conf() {
  cat >"$WORK/globals.conf" <<EOF
global_defs {
  $1
}
virtual_server 10.0.1.100 80 {
  protocol TCP
  real_server 10.0.2.11 80 {
  }
}
EOF
}
for which in keepalived ours; do
  in_ns lvsd "$IPVSADM" -C
  in_ns lvsd "$IPVSADM" --set 900 120 300
  in_ns lvsd "$IPVSADM" -A -t 192.0.2.1:1 -s rr
  globals_conf "lvs_timeouts tcp 1000 udp 77
  lvs_flush"
  start_daemon lvsd "$which" "$WORK/globals.conf"
  record="started: $(settle lvsd)
started: $(timeouts)"
  in_ns lvsd "$IPVSADM" -A -t 192.0.2.1:2 -s rr
  globals_conf "lvs_timeouts tcpfin 33
  lvs_flush"
  kill -HUP "$DAEMON_PID"
  sleep 3
  record="$record
reloaded: $(settle lvsd)
reloaded: $(timeouts)"
  globals_conf "lvs_flush"
  kill -HUP "$DAEMON_PID"
  sleep 3
  record="$record
without: $(timeouts)"
  globals_conf "lvs_timeouts tcp 500"
  kill -HUP "$DAEMON_PID"
  sleep 3
  record="$record
again: $(timeouts)"
  stop_daemon
  record="$record
stopped: $(table lvsd)
stopped: $(timeouts)"
  eval "globals_$which=\$record"
done
# shellcheck disable=SC2154
check_eq globals/same-timeouts-and-flush "$globals_keepalived" "$globals_ours"
check globals/flushed-at-start grep -q '^started: -A -t 10.0.1.100:80' <<<"$globals_ours"
check globals/timeouts-set grep -q 'started: Timeout (tcp tcpfin udp): 1000 120 77' <<<"$globals_ours"
check globals/timeouts-reloaded grep -q 'reloaded: Timeout (tcp tcpfin udp): 900 33 300' <<<"$globals_ours"
check globals/foreign-rule-survives-reload grep -q 'reloaded: -A -t 192.0.2.1:2' <<<"$globals_ours"
check globals/timeouts-restored-at-stop grep -q 'stopped: Timeout (tcp tcpfin udp): 900 120 300' <<<"$globals_ours"

# lvs_flush_on_stop empties the table at stop, foreign rules included; with VS only the services.
for mode in "" VS; do
  case $mode in
    VS) expected="-A -t 192.0.2.1:1 -s rr" ;;
    *) expected="" ;;
  esac
  for which in keepalived ours; do
    in_ns lvsd "$IPVSADM" -C
    in_ns lvsd "$IPVSADM" -A -t 192.0.2.1:1 -s rr
    globals_conf "lvs_flush_on_stop $mode"
    start_daemon lvsd "$which" "$WORK/globals.conf"
    settle lvsd >/dev/null
    stop_daemon
    eval "flush_$which=\$(table lvsd)"
  done
  # shellcheck disable=SC2154
  check_eq "flush-on-stop${mode:+-$mode}/same-table-after-stop" "$flush_keepalived" "$flush_ours"
  check_eq "flush-on-stop${mode:+-$mode}/table-after-stop" "$expected" "$flush_ours"
done
in_ns lvsd "$IPVSADM" -C

# --- 6. SSL_GET ----------------------------------------------------------------------------------

# The real server 10.0.3.11 (the PING_CHECK peer that answers) serves TLS on 443 with the test
# certificate of testdata/tls (CN=server.test, not the address checked) and plain HTTP on 80.
cat >"$WORK/server.pem" <<'EOF'
-----BEGIN CERTIFICATE-----
MIIBlzCCAT6gAwIBAgIUf/8gVdD8il5HLTTOm13hIgCbG00wCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwObHZzLXJzIHRlc3QgQ0EwIBcNMjYxMjAyMDA0NDQxWhgPMjEy
NjExMDgwMDQ0NDFaMBYxFDASBgNVBAMMC3NlcnZlci50ZXN0MFkwEwYHKoZIzj0C
AQYIKoZIzj0DAQcDQgAEIuTc9wDUmSZuiDe6Y2WDjylhnk0Nf8OS/S+qQg+7vcO6
hQhuksIm9zB3badEp1N4sG6nN/00fWGufpYg4F7DYqNlMGMwFgYDVR0RBA8wDYIL
c2VydmVyLnRlc3QwCQYDVR0TBAIwADAdBgNVHQ4EFgQUO+Ai5wEWgXze5CKDYrSl
DrzHO1UwHwYDVR0jBBgwFoAUcd7SqUebefPC9fY8d5DuDDx1APwwCgYIKoZIzj0E
AwIDRwAwRAIgGWodZPB7VHZK1v+bMdSyJrF3sGJUifn2RrprDK7NHQICIBTXv1Ot
PqLHNPNJ0bSAz9n2uJs1pvNAs1iAEAejm/wX
-----END CERTIFICATE-----
EOF
cat >"$WORK/server.key" <<'EOF'
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgajkS2oxQD1vO/E6J
UPC34hFDb78i8n9pEFd9nih7c9GhRANCAAQi5Nz3ANSZJm6IN7pjZYOPKWGeTQ1/
w5L9L6pCD7u9w7qFCG6Swib3MHdtp0SnU3iwbqc3/TR9Ya5+liDgXsNi
-----END PRIVATE KEY-----
EOF
# The guest has no openssl.cnf: an empty configuration stands in for it.
export OPENSSL_CONF=/dev/null
in_ns pinged /usr/bin/openssl s_server -quiet -www -accept 443 -cert "$WORK/server.pem" \
  -key "$WORK/server.key" >"$WORK/s_server.log" 2>&1 &
TLS_SERVER_PID=$!
# Servers only keepalived's OpenSSL and our additions to rustls reach, with the RSA certificate of
# testdata/tls: for the legacy client, TLS 1.0 (4431) and TLS 1.2 (4432) with RSA key exchange only,
# TLS 1.2 with CBC ciphers only (4434), DH key exchange only (4435) or DH with ChaCha20 only (4436);
# for what ring has not, a server whose only curve is x448 (4437, TLS 1.3) or P-521 (4438, TLS 1.2),
# one whose certificate's key is on P-521 (4439), one whose only group is ffdhe2048 (4440, TLS
# 1.3), two whose certificate's key is Ed448 (4441 TLS 1.3, 4442 TLS 1.2) and two whose key is
# RSASSA-PSS (4443 TLS 1.3, 4444 TLS 1.2, the key restricted to SHA-256), and one that signs only
# with SHA-224 (4445, TLS 1.2). TLS 1.0 with ECDHE only (4433) is refused by
# OpenSSL 3's client (the handshake's SHA-1 signature at its default security level).
OLD_TLS_PIDS=
old_tls_server() { # PORT CIPHERS OPTION... (the RSA certificate unless OPTION gives another)
  local port=$1 ciphers=$2
  shift 2
  in_ns pinged /usr/bin/openssl s_server -quiet -www -accept "$port" \
    -cert "$TESTDATA/tls/rsa-server.pem" -key "$TESTDATA/tls/rsa.key" "$@" \
    -cipher "$ciphers:@SECLEVEL=0" >"$WORK/s_server-$port.log" 2>&1 &
  OLD_TLS_PIDS="$OLD_TLS_PIDS $!"
}
old_tls_server 4431 AES256-SHA -tls1
old_tls_server 4432 AES128-GCM-SHA256 -tls1_2
old_tls_server 4433 ECDHE-RSA-AES128-SHA -tls1
old_tls_server 4434 ECDHE-RSA-AES128-SHA256 -tls1_2
old_tls_server 4435 DHE-RSA-AES256-GCM-SHA384 -tls1_2
old_tls_server 4436 DHE-RSA-CHACHA20-POLY1305 -tls1_2
old_tls_server 4437 DEFAULT -groups X448 -tls1_3
old_tls_server 4438 DEFAULT -groups P-521 -tls1_2
old_tls_server 4439 DEFAULT -cert "$TESTDATA/tls/p521-server.pem" \
  -key "$TESTDATA/tls/p521-server.key"
old_tls_server 4440 DEFAULT -groups ffdhe2048 -tls1_3
old_tls_server 4441 DEFAULT -cert "$TESTDATA/tls/ed448-server.pem" \
  -key "$TESTDATA/tls/ed448-server.key" -tls1_3
old_tls_server 4442 DEFAULT -cert "$TESTDATA/tls/ed448-server.pem" \
  -key "$TESTDATA/tls/ed448-server.key" -tls1_2
old_tls_server 4443 DEFAULT -cert "$TESTDATA/tls/rsa-pss-server.pem" \
  -key "$TESTDATA/tls/rsa-pss-server.key" -tls1_3
old_tls_server 4444 DEFAULT -cert "$TESTDATA/tls/rsa-pss-sha256-server.pem" \
  -key "$TESTDATA/tls/rsa-pss-sha256-server.key" -tls1_2
old_tls_server 4445 DEFAULT -sigalgs RSA+SHA224 -tls1_2
start_httpd pinged 10.0.3.11 plain
tls_answers() { in_ns lvsd timeout 5 /usr/bin/openssl s_client -connect 10.0.3.11:443 </dev/null >/dev/null 2>&1; }
if wait_until 5 tls_answers; then
  pass ssl/topology
else
  fail ssl/topology "no TLS server on 10.0.3.11:443" "$(cat "$WORK/s_server.log")"
fi

# ssl_rs PORT BODY: a real server 10.0.3.11:PORT checked by SSL_GET on 10.0.3.11:443 with BODY
# inside the checker (a connect_port in BODY wins: the last one counts).
ssl_rs() {
  cat <<RS
  real_server 10.0.3.11 $1 {
    SSL_GET {
      connect_port 443
      connect_timeout 2
      retry 0
$2
    }
  }
RS
}
{
  echo 'virtual_server 10.0.1.106 443 {'
  echo '  protocol TCP'
  echo '  delay_loop 2'
  ssl_rs 443 '      url {
        path /
      }'
  ssl_rs 444 '      url {
        path /
        status_code 404
      }'
  ssl_rs 80 '      connect_port 80
      url {
        path /
      }'
  ssl_rs 81 '      connect_port 81
      url {
        path /
      }'
  ssl_rs 445 '      enable_sni
      virtualhost www.example.org
      url {
        path /
        regex "Cipher is [A-Z0-9_-]+"
      }'
  ssl_rs 446 '      url {
        path /
        regex "Cipher is"
        regex_no_match
      }'
  for port in 4431 4432 4433 4434 4435 4436 4437 4438 4439 4440 4441 4442 4443 4444 4445; do
    ssl_rs "$port" "      connect_port $port
      url {
        path /
        status_code 200
      }"
  done
  echo '}'
} >"$WORK/ssl.conf"
for which in keepalived ours; do
  start_daemon lvsd "$which" "$WORK/ssl.conf"
  sleep 8
  eval "ssl_table_$which=\$(settle lvsd)"
  [ "$which" = ours ] && ssl_log=$(cat "$DAEMON_LOG")
  stop_daemon
  check_table "ssl/$which-removes-its-services" ""
done
# shellcheck disable=SC2086 # a list of pids
kill "$TLS_SERVER_PID" $OLD_TLS_PIDS 2>/dev/null
# shellcheck disable=SC2154 # set by eval above
check_eq ssl/same-table "$ssl_table_keepalived" "$ssl_table_ours"
for port in 443 445 4431 4432 4434 4435 4436 4437 4438 4439 4440 4441 4442 4443 4444 4445; do
  check "ssl/$port-in" grep -qF -- "-r 10.0.3.11:$port" <<<"$ssl_table_ours"
done
if [ "$(grep -c -- '-a ' <<<"$ssl_table_ours")" = 16 ]; then
  pass ssl/others-out
else
  fail ssl/others-out "expected 16 real servers" "$ssl_table_ours" "log:" "$ssl_log"
fi
check_fails ssl/not-unsupported grep -q "not supported" <<<"$ssl_log"

# --- 7. omega: notify scripts at stop ----------------------------------------------------------

# Two services with live real servers (no checkers) and notify scripts, one with omega: at stop
# keepalived runs the omega service's real servers' notify_down and its quorum_down, and nothing of
# the other. The notes of the start and those of the stop must be the same (in any order: the
# scripts of each run side by side).
note_script
omega_vs() {
  cat <<EOF2
virtual_server 10.0.1.$1 80 {
  protocol TCP
  $2
  quorum_up "$WORK/note.sh vs$1-up"
  quorum_down "$WORK/note.sh vs$1-down"
  real_server 10.0.2.11 80 {
    notify_up "$WORK/note.sh vs$1-rs11-up"
    notify_down "$WORK/note.sh vs$1-rs11-down"
  }
  real_server 10.0.2.12 80 {
    notify_up "$WORK/note.sh vs$1-rs12-up"
    notify_down "$WORK/note.sh vs$1-rs12-down"
  }
}
EOF2
}
{
  omega_vs 100 omega
  omega_vs 101 ""
} >"$WORK/omega.conf"
for which in keepalived ours; do
  rm -f "$WORK/notes"
  start_daemon lvsd "$which" "$WORK/omega.conf"
  settle lvsd >/dev/null
  sleep 1
  started=$(sort "$WORK/notes" 2>/dev/null)
  lines=$(printf '%s' "$started" | grep -c .)
  stop_daemon
  sleep 1
  eval "omega_start_$which=\$started"
  eval "omega_$which=\$(tail -n +$((lines + 1)) \"\$WORK/notes\" 2>/dev/null | sort)"
done
# shellcheck disable=SC2154 # set by eval above
check_eq omega/same-notes-at-start "$omega_start_keepalived" "$omega_start_ours"
# shellcheck disable=SC2154 # set by eval above
check_eq omega/same-notes-at-stop "$omega_keepalived" "$omega_ours"
check omega/rs-down-at-stop grep -qx 'vs100-rs12-down' <<<"$omega_ours"
check omega/quorum-down-at-stop grep -qx 'vs100-down' <<<"$omega_ours"
check omega/quorum-up-at-start grep -qx 'vs101-up' <<<"$omega_start_ours"
check_fails omega/not-without-omega grep -qx 'vs101-down' <<<"$omega_ours"
