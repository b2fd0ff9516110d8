# FILE_CHECK against keepalived 2.2.7, both checker processes alone (-C) on the same configuration:
# unweighted track_files failing their real servers (one with inhibit_on_failure, one `weight 0
# reverse`), weighted ones far below 0 (the server stays, at weight 0) and far above 65535, and a
# real server whose TCP_CHECK fails. Stages: started; reloaded unchanged (keepalived makes every
# FILE_CHECK anew, puts the servers their files failed back and takes them out again, with both
# notify scripts); reloaded with the failing TCP_CHECK removed (its server comes back), a FILE_CHECK
# added to a live server and two new servers failed by their file; the file fixed; stopped. After
# each stage the table (ipvsadm -Sn), the notify scripts run (as a set: they run in parallel) and
# the log lines (lib.sh's checker_log_stages) must be keepalived's.
# vm-timeout: 600
. "$SUITES/lib.sh"
IPVSADM=$REF_IPVSADM
WORK=/tmp/lvs-files
mkdir -p "$WORK"

nat_topology || fail topology "the namespaces could not be built"

note_script

# rs NAME ADDRESS [LINE...]: a real server of port 8080 with notify scripts and the given lines.
rs() {
  local name=$1 address=$2
  shift 2
  printf '  real_server %s 8080 {\n' "$address"
  printf '    notify_up "%s up %s"\n    notify_down "%s down %s"\n' \
    "$WORK/note.sh" "$name" "$WORK/note.sh" "$name"
  local line
  for line in "$@"; do printf '    %s\n' "$line"; done
  printf '  }\n'
}
# file_check TRACK_FILE [WEIGHT...]: a FILE_CHECK block.
file_check() {
  printf 'FILE_CHECK {\n      track_file %s\n' "$1"
  [ -n "$2" ] && printf '      weight %s\n' "$2"
  printf '    }'
}
# TCP_CHECK block with the given lines.
tcp_check() {
  printf 'TCP_CHECK {\n'
  local line
  for line in "$@"; do printf '      %s\n' "$line"; done
  printf '    }'
}

# conf STAGE: the configuration of a stage (start, or added for the second reload).
conf() {
  cat <<EOF
global_defs {
  script_user root
  enable_script_security
}
track_file fault {
  file $WORK/fault
  weight 0
}
track_file good {
  file $WORK/good
  weight 0
}
track_file heavy {
  file $WORK/heavy
  weight 2
}
track_file low {
  file $WORK/low
  weight 2
}
track_file high {
  file $WORK/high
  weight 2
}
virtual_server $VIP 8080 {
  protocol TCP
  lb_algo wrr
  lb_kind NAT
  delay_loop 1
EOF
  rs rs11 10.0.2.11 "weight 10" "$(file_check fault)"
  if [ "$1" = start ]; then
    rs rs12 10.0.2.12 "weight 10" "$(file_check good)"
    rs rs21 10.0.2.21 "$(tcp_check "connect_ip $RS1" "connect_port 8081" "connect_timeout 1")"
  else
    rs rs12 10.0.2.12 "weight 10" "$(file_check good)" "$(file_check fault)"
    rs rs21 10.0.2.21
  fi
  rs rs13 10.0.2.13 inhibit_on_failure "$(file_check fault)"
  rs rs14 10.0.2.14 "$(file_check heavy)"
  rs rs17 10.0.2.17 "$(file_check good '0 reverse')"
  rs rs18 10.0.2.18 "$(file_check fault '0 reverse')"
  rs rs19 10.0.2.19 "$(file_check low)"
  rs rs20 10.0.2.20 "$(file_check high)"
  if [ "$1" != start ]; then
    rs rs15 10.0.2.15 "$(file_check fault)"
    rs rs16 10.0.2.16 "$(tcp_check "connect_timeout 1")" "$(file_check fault)"
  fi
  echo "}"
}

# stage LOG NAME SECONDS: after SECONDS, the table and the notify scripts run since the last
# stage go to LOG.states.
stage() {
  sleep "$3"
  {
    echo "=== $2"
    in_ns director "$IPVSADM" -Sn
    echo "--- notify"
    sort "$WORK/notes"
  } >>"$1.states"
  : >"$WORK/notes"
}

# run WHICH: the scenario under one daemon; its log in $WORK/WHICH.log with "=== STAGE" lines and
# the tables and scripts in $WORK/WHICH.log.states.
run() {
  local log=$WORK/$1.log
  : >"$log"
  : >"$log.states"
  : >"$WORK/notes"
  echo 1 >"$WORK/fault"
  echo 0 >"$WORK/good"
  echo 3 >"$WORK/heavy"
  echo -40000 >"$WORK/low"
  echo 40000 >"$WORK/high"
  conf start >"$WORK/lvs.conf"
  echo "=== START" >>"$log"
  start_checkers "$1" "$WORK/lvs.conf" "$log"
  stage "$log" START 6
  echo "=== RELOAD-SAME" >>"$log"
  kill -HUP "$DAEMON_PID"
  stage "$log" RELOAD-SAME 5
  echo "=== RELOAD-CHANGED" >>"$log"
  conf changed >"$WORK/lvs.conf"
  kill -HUP "$DAEMON_PID"
  # Long enough for rs16's TCP_CHECK to have failed (the first attempt within delay_loop, then two
  # connect_timeouts with delay_before_retry between them: 4-5 s) before its file is fixed, or the
  # server would come in and go out again at a moment that varies by daemon and machine.
  stage "$log" RELOAD-CHANGED 8
  echo "=== FIXED" >>"$log"
  echo 0 >"$WORK/fault"
  stage "$log" FIXED 3
  echo "=== STOP" >>"$log"
  stop_daemon
  sleep 1
}

run ours
run keepalived

check_eq same-tables-and-scripts-at-every-stage "$(cat "$WORK/keepalived.log.states")" \
  "$(cat "$WORK/ours.log.states")"
ours=$(checker_log_stages <"$WORK/ours.log")
reference=$(checker_log_stages <"$WORK/keepalived.log")
check_same_log same-log-lines-at-every-stage "$ours" "$reference" "$WORK/ours.log" "$WORK/keepalived.log"
# The scenario did what it says, in keepalived's run too.
states=$WORK/keepalived.log.states
check reload-puts-back-and-takes-out grep -qxF "up rs11" "$states"
check removed-check-revives-its-server grep -qxF "up rs21" "$states"
check weight-far-below-zero-stays grep -qxF -- "-a -t $VIP:8080 -r 10.0.2.19:8080 -m -w 0" "$states"
check weight-above-65535 grep -qxF -- "-a -t $VIP:8080 -r 10.0.2.20:8080 -m -w 80001" "$states"
