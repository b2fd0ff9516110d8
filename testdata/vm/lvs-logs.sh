# The checker process's log lines, vrrpd -C against keepalived 2.2.7 -C on the same configuration and
# the same real servers (the NAT topology of lib.sh): HTTP_GET of two URLs with quorum, TCP_CHECK with
# inhibit_on_failure, a fwmark service; stages: started, rs1's httpd killed, back, rs2's killed,
# back, a reload changing a weight and adding a real server nobody answers for, stopped. The scenario
# runs twice: as written, then with `log_all_failures` in the HTTP_GET and the first TCP_CHECK, whose
# line for each failed attempt must be keepalived's too. A third run has the other checkers fail
# under `log_all_failures`: UDP_CHECK, DNS_CHECK and SMTP_CHECK at ports rs1 does not serve, a
# MISC_CHECK whose script fails (and one killed at its timeout), a PING_CHECK at an address nobody
# has, each with retries (which keepalived uses at start only for SMTP_CHECK): the same lines as
# keepalived's, as sets (how many attempts fit in the window varies).
#
# Each daemon appends to its log and the suite appends a marker line between stages; the lines of
# each stage, as lib.sh's checker_log_stages gives them, must be keepalived's.
# vm-timeout: 900
. "$SUITES/lib.sh"
IPVSADM=$REF_IPVSADM
WORK=/tmp/lvs-logs
mkdir -p "$WORK"

nat_topology || fail topology "the namespaces could not be built"

has_rs() { in_ns director "$IPVSADM" -Ln | grep -q "$1:80 .*Masq *[1-9]"; }
lacks_rs() { ! has_rs "$1"; }

# conf WEIGHT EXTRA: the configuration, rs1's weight WEIGHT, EXTRA added to the first service; with
# LOG_ALL_FAILURES set, two of its checkers log each failed attempt.
LOG_ALL_FAILURES=
conf() {
  cat <<EOF
virtual_server $VIP 80 {
  protocol TCP
  lb_algo rr
  lb_kind NAT
  delay_loop 1
  quorum 2
  real_server $RS1 80 {
    weight $1
    HTTP_GET {
      url {
        path /
        status_code 200
      }
      url {
        path /index.html
      }
      connect_timeout 1
      retry 1
      delay_before_retry 1
      $LOG_ALL_FAILURES
    }
  }
  real_server $RS2 80 {
    inhibit_on_failure
    TCP_CHECK {
      connect_timeout 1
      retry 0
      $LOG_ALL_FAILURES
    }
  }
$2
}
virtual_server fwmark 5 {
  lb_algo wlc
  delay_loop 1
  real_server $RS2 80 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
EOF
}

# down_and_back WHICH LOG HOST ADDRESS: HOST's httpd killed until the daemon takes ADDRESS out, then
# started again until it is back, each a stage of LOG ("=== RS1 DOWN", "=== RS1 BACK").
down_and_back() {
  local which=$1 log=$2 host=$3 address=$4 name
  name=$(echo "$3" | tr a-z A-Z)
  echo "=== $name DOWN" >>"$log"
  kill "$(httpd_pid "$host")"
  wait_until 15 lacks_rs "$address" || fail "$which/$host-down" "$host stayed"
  sleep 2
  echo "=== $name BACK" >>"$log"
  start_httpd "$host" "$address" "$host"
  wait_until 15 has_rs "$address" || fail "$which/$host-back" "$host did not come back"
  sleep 2
}

# run WHICH: the scenario under one daemon; its log in $WORK/WHICH.log with "=== STAGE" lines.
run() {
  local which=$1 log=$WORK/$1.log
  : >"$log"
  conf 1 "" >"$WORK/lvs.conf"
  start_checkers "$which" "$WORK/lvs.conf" "$log"
  wait_until 20 has_rs "$RS1" && wait_until 20 has_rs "$RS2" || fail "$which/start" "no table"
  sleep 3
  down_and_back "$which" "$log" rs1 "$RS1"
  down_and_back "$which" "$log" rs2 "$RS2"
  echo "=== RELOAD" >>"$log"
  conf 3 "  real_server 10.0.2.14 80 {
    TCP_CHECK {
      connect_timeout 1
    }
  }" >"$WORK/lvs.conf"
  kill -HUP "$DAEMON_PID"
  sleep 8
  echo "=== STOP" >>"$log"
  stop_daemon
}

# normalise LOG: the stages of LOG (checker_log_stages). Which of the two URLs fails when an httpd is
# killed depends on the moment (one URL is checked per delay_loop), and the URLs passed on the way back
# with it: the "success to … url(…)" lines are counted, not named.
normalise() {
  sed -E 's/( success to .*) url\([^)]*\)$/\1 url(...)/' "$1" | checker_log_stages
}

# compare NAME: the normalised logs of both runs are the same.
compare() {
  local ours reference
  ours=$(normalise "$WORK/ours.log")
  reference=$(normalise "$WORK/keepalived.log")
  check_same_log "$1" "$ours" "$reference" "$WORK/ours.log" "$WORK/keepalived.log"
}

run ours
run keepalived
compare same-log-lines-at-every-stage
check ours-says-why-attempts-fail grep -qF "HTTP_GET of [10.0.2.11]:tcp:80: connection to 10.0.2.11:80 failed" "$WORK/ours.log"

LOG_ALL_FAILURES=log_all_failures
run ours
run keepalived
compare same-lines-with-log-all-failures
check keepalived-logs-failed-attempts grep -qF "Connection failed server [10.0.2.11]:tcp:80." "$WORK/keepalived.log"

# others_conf: the other checkers, failing, each with its lines for every failed attempt.
others_conf() {
  cat <<EOF
virtual_server $VIP 81 {
  protocol TCP
  lb_algo rr
  lb_kind NAT
  delay_loop 2
  real_server $RS1 81 {
    UDP_CHECK {
      connect_port 9
      connect_timeout 1
      retry 2
      delay_before_retry 1
      require_reply
      log_all_failures
    }
  }
  real_server $RS1 82 {
    DNS_CHECK {
      connect_port 53
      connect_timeout 1
      retry 1
      delay_before_retry 1
      log_all_failures
    }
  }
  real_server $RS1 83 {
    SMTP_CHECK {
      connect_port 25
      connect_timeout 1
      retry 2
      delay_before_retry 1
      log_all_failures
    }
  }
  real_server $RS1 84 {
    MISC_CHECK {
      misc_path "/bin/sh -c 'exit 3'"
      retry 2
      delay_before_retry 1
      log_all_failures
    }
  }
  real_server $RS1 85 {
    MISC_CHECK {
      misc_path "/bin/sh -c 'sleep 5'"
      misc_timeout 1
      retry 1
      delay_before_retry 1
      log_all_failures
    }
  }
  real_server 10.0.2.99 86 {
    PING_CHECK {
      connect_timeout 1
      retry 2
      delay_before_retry 1
      log_all_failures
    }
  }
}
EOF
}

# run_others WHICH: the failing checkers under one daemon for a while; its log in $WORK/WHICH.log.
run_others() {
  local which=$1 log=$WORK/$1.log
  : >"$log"
  others_conf >"$WORK/lvs.conf"
  start_checkers "$which" "$WORK/lvs.conf" "$log"
  sleep 14
  echo "=== STOP" >>"$log"
  stop_daemon
}

# distinct LOG: the distinct lines of LOG, without timestamps (checker_log_stages without stages).
distinct() {
  checker_log_stages <"$1" | sort -u
}

run_others ours
run_others keepalived
ours=$(distinct "$WORK/ours.log")
reference=$(distinct "$WORK/keepalived.log")
check_same_log same-lines-of-the-other-checkers-with-log-all-failures "$ours" "$reference" \
  "$WORK/ours.log" "$WORK/keepalived.log"
# keepalived starts each checker with its retries used up (one failure takes it down), but for
# SMTP_CHECK, which counts them afresh at every check: its line three times, the others' once.
check keepalived-logs-the-attempts-of-them grep -qF "UDP connection to [$RS1]:tcp:81 failed." "$WORK/keepalived.log"
check_eq smtp-retried-at-start 3 "$(grep -c 'SMTP_CHECK Could not connect' "$WORK/ours.log")"
