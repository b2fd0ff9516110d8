# vrrpd's metrics endpoint and its checker child, on the real kernel (the NAT topology of lib.sh,
# HTTP_GET on both real servers, a VRRP instance on the director's front interface):
# 1. One scrape of `vrrpd --metrics-listen` (VRRP daemon, checker child) carries both the VRRP and
#    the LVS metrics. While traffic passes and rs1's httpd stops: lvs_real_server_up, the weight
#    and the IPVS counters move, and the counters equal `ipvsadm -Ln --stats`.
# 2. The checker child killed with SIGKILL: the parent logs keepalived's lines and starts another,
#    which takes the table over without changing it (rs1, down, stays at weight 0; the counters
#    stay), and scrapes go on with the new child's part; rs1's httpd back → up in the metrics.
# 3. `--dont-respawn`: the child's death stops vrrpd. `-C` and `-P` alone serve their own part.
# vm-timeout: 600
. "$SUITES/lib.sh"
IPVSADM=$REF_IPVSADM
WORK=/tmp/lvs-metrics
mkdir -p "$WORK"
PORT=9650

cat >"$WORK/metrics.conf" <<EOF
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.0.1.200/24
  }
}
virtual_server $VIP 80 {
  protocol TCP
  lb_algo rr
  lb_kind NAT
  delay_loop 1
  real_server $RS1 80 {
    inhibit_on_failure
    HTTP_GET {
      url {
        path /index.html
      }
      connect_timeout 1
      retry 1
      delay_before_retry 1
    }
  }
  real_server $RS2 80 {
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
EOF

if ! nat_topology; then
  fail topology "the namespaces could not be built"
  exit 1
fi
pass topology

# start_vrrpd NAME ARGS...: vrrpd in the director namespace, in the foreground, logging to
# $WORK/NAME.log; DAEMON_PID is its pid.
start_vrrpd() {
  local name=$1
  shift
  DAEMON_LOG=$WORK/$name.log
  ip netns exec director "$LVS_BIN/vrrpd" -n -l -D -f "$WORK/metrics.conf" -p "$WORK/$name.pid" \
    -r "$WORK/$name-r.pid" -c "$WORK/$name-c.pid" "$@" >"$DAEMON_LOG" 2>&1 &
  DAEMON_PID=$!
}

scrape() { in_ns director timeout 5 busybox wget -q -O - "http://127.0.0.1:${1:-$PORT}/metrics"; }
# value SERIES [PORT]: the value of the sample SERIES (`name{labels}`) in a scrape.
value() { scrape "${2:-$PORT}" | awk -v s="$1" 'index($0, s " ") == 1 {print $NF}'; }
# is SERIES VALUE: the sample has that value now.
is() { [ "$(value "$1")" = "$2" ]; }
# at_least SERIES N
at_least() { local v; v=$(value "$1"); [ -n "$v" ] && [ "${v%.*}" -ge "$2" ]; }

VS="virtual_server=\"TCP $VIP:80\""
R1="$VS,real_server=\"$RS1:80\""
R2="$VS,real_server=\"$RS2:80\""
# ipvsadm's connection count of the service (no argument) or of real server ADDRESS.
kernel_conns() {
  if [ -z "${1:-}" ]; then
    in_ns director "$IPVSADM" -Ln --stats -t "$VIP:80" | awk '/^TCP/ {print $3}'
  else
    in_ns director "$IPVSADM" -Ln --stats -t "$VIP:80" | awk -v rs="$1:80" '$2 == rs {print $3}'
  fi
}
kernel_weight() { in_ns director "$IPVSADM" -Ln -t "$VIP:80" | awk -v rs="$1:80" '$2 == rs {print $4}'; }
show() { printf '%s\n' "scrape:" "$(scrape | grep -v '^#' | grep -E 'lvs_real|vrrpd_checker|lvs_virtual')" "table:" "$(in_ns director "$IPVSADM" -Ln)" "log:" "$(tail -n 25 "$DAEMON_LOG")"; }

# --- 1. One scrape, both daemons; health, weight and counters move --------------------------------
start_vrrpd both "--metrics-listen=127.0.0.1:$PORT"
if wait_until 20 is "lvs_real_server_up{$R1}" 1 && wait_until 20 at_least \
  "lvs_real_server_checks_total{$R2,checker=\"HTTP_GET\",result=\"success\"}" 1; then
  pass both/checks-run
else
  fail both/checks-run "no successful checks in the metrics" "$(show)"
fi
text=$(scrape)
if grep -q '^vrrpd_instance_state{instance="VI_1",interface="eth0",vrid="51",state="backup"} 1' <<<"$text" \
  || grep -q '^vrrpd_instance_state{instance="VI_1",interface="eth0",vrid="51",state="master"} 1' <<<"$text"; then
  pass both/vrrp-part
else
  fail both/vrrp-part "no VI_1 state" "$text"
fi
check_eq both/checker-part-up 1 "$(awk '$1 == "vrrpd_checker_metrics_up" {print $2}' <<<"$text")"
check_eq both/one-build-info 1 "$(grep -c '^vrrpd_build_info' <<<"$text")"
check_eq both/rs1-weight 1 "$(awk -v s="lvs_real_server_weight{$R1}" 'index($0, s " ") == 1 {print $NF}' <<<"$text")"
check_eq both/quorum 1 "$(awk -v s="lvs_virtual_server_quorum_up{$VS}" 'index($0, s " ") == 1 {print $NF}' <<<"$text")"
# Each server's first check comes at a random point of its warmup: wait for both.
if wait_until 20 at_least "lvs_real_server_check_duration_seconds_count{$R1,checker=\"HTTP_GET\"}" 1 \
  && wait_until 20 at_least 'lvs_check_duration_seconds_bucket{checker="HTTP_GET",le="+Inf"}' 2; then
  pass both/check-durations
else
  fail both/check-durations "no durations" "$(show)"
fi

check_eq both/requests-split "rs1=5 rs2=5" "$(count_backends client "http://$VIP/" 10)"
# The kernel folds its per-CPU counters into the totals every 2 s.
sleep 3
check_eq both/service-connections-as-ipvsadm "$(kernel_conns)" "$(value "lvs_virtual_server_connections_total{$VS}")"
check_eq both/rs1-connections-as-ipvsadm "$(kernel_conns "$RS1")" "$(value "lvs_real_server_connections_total{$R1}")"
if at_least "lvs_virtual_server_connections_total{$VS}" 10 \
  && at_least "lvs_real_server_bytes_total{$R2,direction=\"out\"}" 1; then
  pass both/counters-count-the-traffic
else
  fail both/counters-count-the-traffic "fewer than 10 connections" "$(show)"
fi
rs2_before=$(value "lvs_real_server_connections_total{$R2}")

kill "$(httpd_pid rs1)"
if wait_until 15 is "lvs_real_server_up{$R1}" 0; then
  pass both/rs1-down-in-the-metrics
else
  fail both/rs1-down-in-the-metrics "rs1 still up" "$(show)"
fi
check_eq both/rs1-weight-0 0 "$(value "lvs_real_server_weight{$R1}")"
check_eq both/rs1-weight-0-in-the-kernel 0 "$(kernel_weight "$RS1")"
check both/rs1-failures-counted at_least "lvs_real_server_checks_total{$R1,checker=\"HTTP_GET\",result=\"failure\"}" 1
check_eq both/only-rs2-serves "rs2=4" "$(count_backends client "http://$VIP/" 4)"
sleep 3
check_eq both/rs2-connections-grow "$((rs2_before + 4))" "$(value "lvs_real_server_connections_total{$R2}")"

# --- 2. The checker child killed: another takes the table over -------------------------------------
old_child=$(cat "$WORK/both-c.pid")
table_before=$(in_ns director "$IPVSADM" -Sn)
conns_before=$(kernel_conns)
kill -KILL "$old_child"
new_child_running() {
  local pid
  pid=$(cat "$WORK/both-c.pid" 2>/dev/null)
  [ -n "$pid" ] && [ "$pid" != "$old_child" ] && kill -0 "$pid"
}
if wait_until 10 new_child_running; then
  pass respawn/new-child
else
  fail respawn/new-child "no new checker child" "$(tail -n 20 "$DAEMON_LOG")"
fi
check respawn/logs-the-death grep -qF "Healthcheck child process($old_child) died: Respawning" "$DAEMON_LOG"
check respawn/logs-the-signal grep -qE "pid [0-9]+ exited due to signal 9 \(Killed\)" "$DAEMON_LOG"
# Over the new child's first checks the table never changes: rs1 (down) stays at weight 0.
changed=""
for _ in $(seq 1 40); do
  now=$(in_ns director "$IPVSADM" -Sn)
  [ "$now" != "$table_before" ] && changed=$now
  sleep 0.1
done
check_eq respawn/table-unchanged "" "$changed"
check_eq respawn/table-after "$table_before" "$(in_ns director "$IPVSADM" -Sn)"
conns_after=$(kernel_conns)
if [ -n "$conns_before" ] && [ "$conns_after" -ge "$conns_before" ]; then
  pass respawn/counters-kept
else
  fail respawn/counters-kept "connections before $conns_before, after $conns_after"
fi
check respawn/restart-counted is vrrpd_checker_restarts_total 1
check respawn/new-child-answers is vrrpd_checker_metrics_up 1
check respawn/rs1-still-down is "lvs_real_server_up{$R1}" 0
start_httpd rs1 "$RS1" rs1
if wait_until 15 is "lvs_real_server_up{$R1}" 1; then
  pass respawn/rs1-back-in-the-metrics
else
  fail respawn/rs1-back-in-the-metrics "rs1 not up" "$(show)"
fi
check_eq respawn/rs1-weight-back 1 "$(kernel_weight "$RS1")"
check_eq respawn/rs1-metric-weight-back 1 "$(value "lvs_real_server_weight{$R1}")"
stop_daemon
wait_until 5 bash -c "[ -z \"\$(ip netns exec director $IPVSADM -Sn)\" ]"
check_eq respawn/rules-removed-at-stop "" "$(in_ns director "$IPVSADM" -Sn)"

# --- 3. --dont-respawn; -C and -P alone -------------------------------------------------------------
start_vrrpd norespawn --dont-respawn
wait_until 20 bash -c "ip netns exec director $IPVSADM -Ln | grep -q '$RS2:80'"
wait_until 5 test -s "$WORK/norespawn-c.pid"
child=$(cat "$WORK/norespawn-c.pid")
kill -KILL "$child"
parent_gone() { ! kill -0 "$DAEMON_PID" 2>/dev/null || grep -q '^State:.*Z' "/proc/$DAEMON_PID/status"; }
if wait_until 10 parent_gone; then
  pass dont-respawn/stops
else
  fail dont-respawn/stops "vrrpd still running" "$(tail -n 20 "$DAEMON_LOG")"
fi
check dont-respawn/logs grep -qF "Healthcheck child process($child) died: Exiting" "$DAEMON_LOG"
stop_daemon
in_ns director "$IPVSADM" -C

start_vrrpd checkers -C "--metrics-listen=127.0.0.1:9651"
if wait_until 20 bash -c \
  "ip netns exec director timeout 5 busybox wget -q -O - http://127.0.0.1:9651/metrics | grep -q '^lvs_real_server_up{.*$RS2:80\"} 1'"; then
  pass checkers-alone/serves-lvs
else
  fail checkers-alone/serves-lvs "no lvs metrics on 9651" "$(tail -n 20 "$DAEMON_LOG")"
fi
text=$(scrape 9651)
check_eq checkers-alone/build-info 1 "$(grep -c '^vrrpd_build_info' <<<"$text")"
check_eq checkers-alone/no-vrrp 0 "$(grep -c '^vrrpd_instance_state' <<<"$text")"
stop_daemon
in_ns director "$IPVSADM" -C

start_vrrpd vrrp -P "--metrics-listen=127.0.0.1:9652"
if wait_until 10 bash -c "ip netns exec director timeout 5 busybox wget -q -O - http://127.0.0.1:9652/metrics | grep -q '^vrrpd_instance_state{instance=\"VI_1\"'"; then
  pass vrrp-alone/serves-vrrp
else
  fail vrrp-alone/serves-vrrp "no VRRP metrics on 9652" "$(tail -n 20 "$DAEMON_LOG")"
fi
text=$(scrape 9652)
check_eq vrrp-alone/no-lvs 0 "$(grep -c '^lvs_' <<<"$text")"
check_eq vrrp-alone/no-checker-gauge 0 "$(grep -c '^vrrpd_checker' <<<"$text")"
stop_daemon
