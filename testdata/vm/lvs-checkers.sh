# SMTP_CHECK, UDP_CHECK, DNS_CHECK, MISC_CHECK (misc_dynamic), PING_CHECK and FILE_CHECK with servers
# that answer, vrrpd -C against keepalived 2.2.7 -C on the same configuration (the NAT topology of
# lib.sh): rs1 runs an SMTP server (busybox nc and a script: 220, 250 to HELO, 221 to QUIT) and a DNS
# server (ours, of crates/lvs-runtime/examples: it answers every query with the response code written in
# a file), rs2 a DHCP server (udhcpd: a UDP socket that answers nothing else, so a check sees no ICMP
# error while it runs) and an address of its own for the PING_CHECK, the director a script whose exit
# status is read from a file and a track_file. Stages: started, everything failing (SMTP and DHCP
# servers killed, the DNS server answering SERVFAIL, exit status 1, the ping address removed, the
# file's value changed), everything back (servers started, NOERROR again, exit status 7, the address
# back, another value), stopped. After each stage the table (ipvsadm -Sn) and the log lines of the
# stage (lib.sh's checker_log_stages) must be keepalived's. The scenario runs again with
# `log_all_failures` in every checker that has retries: the line of each failed attempt, while the
# checkers that were up fail through their retries, must be keepalived's too (as sets: how many
# attempts fit in a stage varies).
# vm-timeout: 900
. "$SUITES/lib.sh"
IPVSADM=$REF_IPVSADM
WORK=/tmp/lvs-checkers
SCRIPTS=/etc/lvs-checkers
mkdir -p "$WORK" "$SCRIPTS"

nat_topology || fail topology "the namespaces could not be built"

# The SMTP server's side of one connection.
cat >"$SCRIPTS/smtp.sh" <<'EOF'
#!/bin/sh
printf '220 rs1.test ESMTP\r\n'
read -r helo
printf '250 rs1.test\r\n'
read -r quit
printf '221 rs1.test\r\n'
EOF
# MISC_CHECK: the exit status written in a file.
cat >"$SCRIPTS/misc.sh" <<EOF
#!/bin/sh
exit \$(cat $WORK/misc-status)
EOF
chmod 755 "$SCRIPTS/smtp.sh" "$SCRIPTS/misc.sh"
cat >"$WORK/udhcpd.conf" <<EOF
interface eth0
start 10.0.2.100
end 10.0.2.110
lease_file $WORK/udhcpd.leases
pidfile $WORK/udhcpd.pid
EOF
: >"$WORK/udhcpd.leases"

PING_ADDRESS=10.0.2.30
# replace_value FILE VALUE: FILE holds VALUE at once, never empty in between (a check that reads
# it while `echo >` has only truncated it would see no value: the DNS server would answer nothing,
# the script would exit 0).
replace_value() { echo "$2" >"$1.new" && mv "$1.new" "$1"; }
# conf: the configuration; with LOG_ALL_FAILURES set, every checker with retries logs each failed
# attempt.
LOG_ALL_FAILURES=
conf() {
  cat <<EOF
global_defs {
  script_user root
  enable_script_security
}
track_file weights {
  file $WORK/weight
  weight 2
}
virtual_server $VIP 25 {
  protocol TCP
  lb_algo rr
  lb_kind NAT
  delay_loop 1
  real_server $RS1 25 {
    # One retry: busybox nc listens anew after each connection, and a check can fall in between.
    SMTP_CHECK {
      connect_timeout 2
      retry 1
      delay_before_retry 1
      helo_name checker.test
      $LOG_ALL_FAILURES
    }
  }
}
virtual_server $VIP 67 {
  protocol UDP
  lb_algo rr
  lb_kind NAT
  delay_loop 1
  real_server $RS2 67 {
    UDP_CHECK {
      connect_timeout 1
      retry 1
      delay_before_retry 1
      $LOG_ALL_FAILURES
    }
  }
}
virtual_server $VIP 53 {
  protocol UDP
  lb_algo rr
  lb_kind NAT
  delay_loop 1
  real_server $RS1 53 {
    DNS_CHECK {
      connect_timeout 1
      retry 1
      delay_before_retry 1
      type A
      name checker.test
      $LOG_ALL_FAILURES
    }
  }
}
virtual_server $VIP 8080 {
  protocol TCP
  lb_algo wrr
  lb_kind NAT
  delay_loop 1
  real_server $RS1 8080 {
    weight 10
    MISC_CHECK {
      misc_path $SCRIPTS/misc.sh
      misc_timeout 2
      misc_dynamic
      retry 1
      delay_before_retry 1
      $LOG_ALL_FAILURES
    }
  }
  real_server $RS2 8080 {
    weight 10
    FILE_CHECK {
      track_file weights
    }
  }
}
virtual_server $VIP 90 {
  protocol TCP
  lb_algo rr
  lb_kind NAT
  delay_loop 1
  real_server $PING_ADDRESS 90 {
    PING_CHECK {
      connect_timeout 1
      retry 1
      delay_before_retry 1
      $LOG_ALL_FAILURES
    }
  }
}
EOF
}

start_smtp() { in_ns rs1 busybox nc -ll -p 25 -e "$SCRIPTS/smtp.sh" & }
start_dhcp() { in_ns rs2 busybox udhcpd -f "$WORK/udhcpd.conf" >/dev/null 2>&1 & }
# The DNS server answers every query with the response code in $WORK/rcode.
start_dns() { in_ns rs1 "$DNS_RESPONDER" "$RS1:53" "$WORK/rcode" & }
# stop_in NS NAME: kill NS's processes whose command line holds NAME.
stop_in() {
  local pid
  for pid in $(ip netns pids "$1"); do
    grep -q "$2" "/proc/$pid/cmdline" 2>/dev/null && kill "$pid"
  done
}
ping_address() { in_ns rs2 ip addr "$1" "$PING_ADDRESS/24" dev eth0; }
smtp_answers() { in_ns director busybox sh -c "echo QUIT | timeout 3 nc $RS1 25" | grep -q '^220'; }
# Whether no SMTP conversation is under way on rs1.
smtp_quiet() {
  local pid
  for pid in $(ip netns pids rs1); do
    grep -q smtp.sh "/proc/$pid/cmdline" 2>/dev/null && return 1
  done
  return 0
}

table() { in_ns director "$IPVSADM" -Sn; }
has_line() { table | grep -qxF -- "$1"; }
lacks_line() { ! has_line "$1"; }
# Everything failing: the SMTP server (the slowest, with its retry) and the ping address out.
all_failed() {
  lacks_line "-a -t $VIP:25 -r $RS1:25 -m -w 1" && lacks_line "-a -t $VIP:90 -r $PING_ADDRESS:90 -m -w 1"
}
all_back() {
  has_line "-a -t $VIP:25 -r $RS1:25 -m -w 1" && has_line "-a -t $VIP:90 -r $PING_ADDRESS:90 -m -w 1"
}

# mark LOG NAME: the stage's marker, before what starts it.
mark() { echo "=== $2" >>"$1"; }
# settle LOG NAME WHAT...: up to 20 s for WHAT (a wait_until command) and 4 s more for the rest to
# settle; the table after it goes to the log of tables.
settle() {
  local log=$1 name=$2
  shift 2
  wait_until 20 "$@" || fail "$CURRENT/$name" "not reached: $*" "$(table)"
  sleep 4
  { echo "=== $name"; table; } >>"$log.tables"
}

# run WHICH: the scenario under one daemon; its log in $WORK/WHICH.log with "=== STAGE" lines and
# the tables in $WORK/WHICH.log.tables.
run() {
  CURRENT=$1
  local log=$WORK/$1.log
  : >"$log"
  : >"$log.tables"
  replace_value "$WORK/misc-status" 0
  echo 0 >"$WORK/weight"
  replace_value "$WORK/rcode" 0
  start_smtp
  start_dhcp
  start_dns
  ping_address add
  wait_until 10 smtp_answers || fail "$1/smtp-server" "the SMTP server does not answer"
  conf >"$WORK/lvs.conf"
  mark "$log" START
  start_checkers "$1" "$WORK/lvs.conf" "$log"
  settle "$log" START has_line "-a -u $VIP:67 -r $RS2:67 -m -w 1"

  mark "$log" FAILING
  # The listener first, and a conversation under way left to end as it would: cutting it gives a
  # read failure to whichever daemon happens to be in one, a line the other has not.
  stop_in rs1 "nc"
  wait_until 5 smtp_quiet
  stop_in rs1 smtp.sh
  stop_in rs2 udhcpd
  replace_value "$WORK/rcode" 2
  replace_value "$WORK/misc-status" 1
  echo 3 >"$WORK/weight"
  ping_address del
  settle "$log" FAILING all_failed

  mark "$log" BACK
  start_smtp
  start_dhcp
  replace_value "$WORK/rcode" 0
  replace_value "$WORK/misc-status" 7
  echo 1 >"$WORK/weight"
  ping_address add
  settle "$log" BACK all_back

  echo "=== STOP" >>"$log"
  stop_daemon
  stop_in rs1 "nc"
  stop_in rs2 udhcpd
  stop_in rs1 dns-responder
  ping_address del
  sleep 1
}

run ours
run keepalived

check_eq same-tables-at-every-stage "$(cat "$WORK/keepalived.log.tables")" "$(cat "$WORK/ours.log.tables")"
ours=$(checker_log_stages <"$WORK/ours.log")
reference=$(checker_log_stages <"$WORK/keepalived.log")
check_same_log same-log-lines-at-every-stage "$ours" "$reference" "$WORK/ours.log" "$WORK/keepalived.log"
# The scenario did what it says: each checker went down and came back, in keepalived's run too.
check smtp-failed-and-came-back grep -qF "SMTP_CHECK" "$WORK/keepalived.log"
check dns-failed-on-servfail grep -qF "rcode = 2" "$WORK/keepalived.log"
check misc-weight-from-exit-status grep -qxF -- "-a -t $VIP:8080 -r $RS1:8080 -m -w 5" "$WORK/keepalived.log.tables"
check ping-failed-and-came-back grep -qF "ICMP CHECK" "$WORK/keepalived.log"

# distinct_stages: checker_log_stages with each stage's lines once.
distinct_stages() {
  checker_log_stages | awk '/^=== / { delete seen; print; next } !seen[$0]++'
}

LOG_ALL_FAILURES=log_all_failures
run ours
run keepalived
check_eq same-tables-with-log-all-failures "$(cat "$WORK/keepalived.log.tables")" \
  "$(cat "$WORK/ours.log.tables")"
ours=$(distinct_stages <"$WORK/ours.log")
reference=$(distinct_stages <"$WORK/keepalived.log")
check_same_log same-lines-of-failed-attempts-at-every-stage "$ours" "$reference" "$WORK/ours.log" \
  "$WORK/keepalived.log"
# The failed attempts of the checkers that were up have their lines, in keepalived's log too.
check keepalived-logs-failed-udp-attempts grep -qF "UDP connection to [$RS2]:udp:67 failed." \
  "$WORK/keepalived.log"
check keepalived-logs-failed-misc-attempts grep -qF \
  "Misc check for [[$RS1]:tcp:8080 VS [$VIP]:tcp:8080] by [$SCRIPTS/misc.sh] failed, will do 1 retry" \
  "$WORK/keepalived.log"
