# Reloads against keepalived 2.2.7, both checker processes alone (-C) on the same configurations and
# the same real servers (the NAT topology of lib.sh: rs1 and rs2 serve HTTP on port 80, 10.0.2.14 is
# nobody): a virtual_server_group with a range and fwmark entries, quorum, hysteresis, quorum scripts
# and a sorry server; a virtual server with inhibit_on_failure and weights; TCP_CHECKs that pass and
# fail. Four reloads, each changing several things at once (group entries and ranges, the quorum
# gained and lost by the reload, the sorry server, a checker's port, weights, a real server's method,
# persistence, real and virtual servers added and removed). After each
# stage up to the stop the table (ipvsadm -Sn), the scripts run (as a set: they run in parallel) and
# the log lines (lib.sh's checker_log_stages) must be keepalived's; at the stop ours leaves nothing.
# A real server comes back at a reload only where the group's entries stay and the quorum is up:
# otherwise keepalived 2.2.7 errs (docs/lvs.md, the reload of a virtual_server_group).
# vm-timeout: 600
. "$SUITES/lib.sh"
IPVSADM=$REF_IPVSADM
WORK=/tmp/lvs-reload
mkdir -p "$WORK"

nat_topology || fail topology "the namespaces could not be built"

note_script

# notes WHAT: notify_up and notify_down lines for a server named WHAT.
notes() {
  printf '    notify_up "%s up %s"\n    notify_down "%s down %s"\n' \
    "$WORK/note.sh" "$1" "$WORK/note.sh" "$1"
}
# tcp_check [PORT]: a TCP_CHECK (of the real server's port unless PORT).
tcp_check() {
  printf '    TCP_CHECK {\n      connect_timeout 1\n'
  [ -n "$1" ] && printf '      connect_port %s\n' "$1"
  printf '    }\n'
}

header() {
  printf 'global_defs {\n  script_user root\n  enable_script_security\n}\n'
}

# group RANGE_END [MARK...]: the group web, 10.0.1.100 to 10.0.1.RANGE_END and the marks.
group() {
  local end=$1 mark
  shift
  printf 'virtual_server_group web {\n  10.0.1.100-%s 80\n' "$end"
  for mark in "$@"; do printf '  fwmark %s\n' "$mark"; done
  printf '}\n'
}

# web QUORUM HYSTERESIS SORRY RS2_CHECK_PORT [alpha14]: the group's virtual server; rs1's check
# passes, rs2's passes on port 80 only; with alpha14 also 10.0.2.14, whose alpha checker keeps it
# down.
web() {
  cat <<EOF
virtual_server group web {
  protocol TCP
  lb_algo rr
  lb_kind NAT
  delay_loop 1
  quorum $1
  hysteresis $2
  quorum_up "$WORK/note.sh quorum-up web"
  quorum_down "$WORK/note.sh quorum-down web"
  sorry_server $3 80
  real_server $RS1 80 {
$(notes web-rs1)
$(tcp_check)
  }
  real_server $RS2 80 {
$(notes web-rs2)
$(tcp_check "$4")
  }
$([ "$5" = alpha14 ] && printf '  real_server 10.0.2.14 80 {\n    TCP_CHECK {\n      alpha\n    }\n  }\n')
}
EOF
}

# v110 PERSISTENCE RS1_WEIGHT RS1_OPTION SECOND: the virtual server 10.0.1.110, with
# persistence_timeout 60 when PERSISTENCE is "persistent"; rs1 checked, of weight RS1_WEIGHT, with
# the line RS1_OPTION; then rs2 unchecked (weight 2), or with SECOND "rs14" 10.0.2.14, checked and
# nobody's.
v110() {
  local persistence='' second
  [ "$1" = persistent ] && persistence='  persistence_timeout 60'
  if [ "$4" = rs14 ]; then
    second="  real_server 10.0.2.14 80 {
$(notes v110-rs14)
$(tcp_check)
  }"
  else
    second="  real_server $RS2 80 {
    weight 2
$(notes v110-rs2)
  }"
  fi
  cat <<EOF
virtual_server 10.0.1.110 80 {
  protocol TCP
  lb_algo wrr
  lb_kind NAT
$persistence
  delay_loop 1
  real_server $RS1 80 {
    weight $2
    $3
$(notes v110-rs1)
$(tcp_check)
  }
$second
}
EOF
}
# v110_a: rs1 with weight 3 and inhibit_on_failure, rs2 unchecked.
v110_a() { v110 plain 3 inhibit_on_failure rs2; }
# v110_b: rs1's weight 3 -> 4, rs2 removed, a server nobody answers for added, persistence.
v110_b() { v110 persistent 4 inhibit_on_failure rs14; }
# v110_c: rs1 without inhibit_on_failure and by DR, rs2 back, 10.0.2.14 gone.
v110_c() { v110 persistent 4 "lvs_method DR" rs2; }

# v120: a new virtual server whose only real server fails its check.
v120() {
  cat <<EOF
virtual_server 10.0.1.120 80 {
  protocol TCP
  lb_algo rr
  lb_kind NAT
  delay_loop 1
  quorum_up "$WORK/note.sh quorum-up v120"
  quorum_down "$WORK/note.sh quorum-down v120"
  real_server 10.0.2.14 80 {
$(notes v120-rs14)
$(tcp_check)
  }
}
EOF
}

# A: rs2 fails its check (port 81), so the quorum of 2 (+1) is not met at start: the sorry server
# serves.
conf_a() { header; group 101 7; web 2 1 10.0.2.13 81; v110_a; }
# B: the group grows (the range to 102, another mark), its quorum drops to 1 (its hysteresis goes
# to 0 with it): gained at the reload, the sorry server goes; v110_b.
conf_b() { header; group 102 7 8; web 1 1 10.0.2.13 81; v110_b; }
# C: rs2's check moves to the port it serves, a new checker that starts good: rs2 comes back at the
# reload; v110_c and a new virtual server.
conf_c() { header; group 102 7 8; web 1 0 10.0.2.13 80; v110_c; v120; }
# D: the group shrinks back; the new virtual server goes.
conf_d() { header; group 101 7; web 1 0 10.0.2.13 80; v110_c; }
# E: a server that starts down (alpha) lets the quorum rise to 3: lost at the reload, and another
# sorry server comes.
conf_e() { header; group 101 7; web 3 0 10.0.2.15 80 alpha14; v110_c; }

# stage LOG NAME SECONDS: after SECONDS, the table and the scripts run since the last stage go to
# LOG.states.
stage() {
  sleep "$3"
  {
    echo "=== $2"
    in_ns director "$IPVSADM" -Sn
    echo "--- scripts"
    sort "$WORK/notes"
  } >>"$1.states"
  : >"$WORK/notes"
}

# reload_to LOG NAME CONF: SIGHUP with CONF as the configuration, as stage NAME.
reload_to() {
  echo "=== $2" >>"$1"
  "$3" >"$WORK/lvs.conf"
  kill -HUP "$DAEMON_PID"
  stage "$1" "$2" 7
}

# run WHICH: the scenario under one daemon; its log in $WORK/WHICH.log with "=== STAGE" lines and
# the tables and scripts in $WORK/WHICH.log.states.
run() {
  local log=$WORK/$1.log
  : >"$log"
  : >"$log.states"
  : >"$WORK/notes"
  conf_a >"$WORK/lvs.conf"
  echo "=== START" >>"$log"
  start_checkers "$1" "$WORK/lvs.conf" "$log"
  stage "$log" START 7
  reload_to "$log" RELOAD-B conf_b
  reload_to "$log" RELOAD-C conf_c
  reload_to "$log" RELOAD-D conf_d
  reload_to "$log" RELOAD-E conf_e
  echo "=== STOP" >>"$log"
  stop_daemon
  stage "$log" STOP 1
  in_ns director "$IPVSADM" -C
}

run ours
run keepalived

# Up to the stop: keepalived 2.2.7 leaves services of the group behind at its stop once the group's
# entries have changed (its counts of live servers per entry go wrong), ours removes them all.
before_stop() { sed '/^=== STOP/,$d' "$1"; }
check_eq same-tables-and-scripts-until-the-stop "$(before_stop "$WORK/keepalived.log.states")" \
  "$(before_stop "$WORK/ours.log.states")"
check ours-leaves-no-service-at-stop sh -c "! sed -n '/^=== STOP/,\$p' '$WORK/ours.log.states' | grep -q '^-A'"
# keepalived's own failed IPVS commands (it re-adds the services and real servers of a group's
# changed entries; "Service already exists", "No such destination") are left out: ours has none.
reload_log_stages() { checker_log_stages | grep -v '^IPVS cmd '; }
ours=$(reload_log_stages <"$WORK/ours.log")
reference=$(reload_log_stages <"$WORK/keepalived.log")
check_same_log same-log-lines-at-every-stage "$ours" "$reference" "$WORK/ours.log" "$WORK/keepalived.log"
# The scenario did what it says, in keepalived's run too.
states=$WORK/keepalived.log.states
check group-grew grep -qF -- "-A -t 10.0.1.102:80 -s rr" "$states"
check quorum-scripts-ran grep -qxF "quorum-up web" "$states"
check sorry-server-came grep -qF -- "-r 10.0.2.15:80" "$states"
check server-revived grep -qxF "up web-rs2" "$states"
check group-shrank-again sh -c "! sed -n '/=== RELOAD-D/,\$p' '$states' | grep -qF -- '-A -f 8'"
