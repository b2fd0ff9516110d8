# shellcheck shell=bash
# The checker benchmark, inside the VM: keepalived 2.2.7 (-C) and our vrrpd (-C) on the same kernel, the
# same configurations, one after the other. Run by the VM's /init (plan line "bench FILE"), output on
# the results port:
#   bench: ...                        progress
#   RESULT NAME REF OURS              a figure of keepalived and of ours
#   SAMPLES NAME TOOL VALUES...       every repetition
#   BROKEN WHAT                       a step failed, followed by "    | " detail lines
#
# (a) Reload: the daemon programs reload-a.conf (10,000 virtual servers, one real server and one
#     TCP_CHECK each to a local listener, busybox httpd, so no server goes down); then REPS
#     times the file is replaced by the other of reload-a.conf and reload-b.conf (one real server's
#     weight differs) and the daemon gets SIGHUP. The kernel's function tracer records every IPVS
#     command that changes the table (ip_vs_genl_set_cmd) after a trace marker written just before
#     the signal: the latency is from the marker to the last such command, and their count is the
#     number of kernel operations the reload cost. The weight is then checked with ipvsadm.
# (b) CPU and memory: cpu.conf (TCP_CHECKs at delay_loop 1 to closed local ports); once every server
#     is out of the table and a few seconds passed, user + system time of the daemon's processes
#     over CPU_SECONDS (keepalived: its parent and its checker child) as % of one core, and their
#     resident memory (VmRSS added up).
#
# Settings come from $BENCH_DIR/settings: REPS, CPU_SECONDS, CHANGED (the virtual server whose weight
# changes, as ADDRESS:PORT), ONLY (reload or cpu: that part alone; empty: both).
set -uo pipefail

BENCH_DIR=/opt/lvs/bench
# shellcheck source=/dev/null
. "$BENCH_DIR/settings"

IPVSADM=/usr/sbin/ipvsadm
WORK=/tmp/bench-lvs
TRACING=/sys/kernel/tracing
mkdir -p "$WORK"
FAILED=0

say() { printf 'bench: %s\n' "$*"; }
broken() {
  printf 'BROKEN %s\n' "$1"
  shift
  local line
  for line in "$@"; do printf '    | %s\n' "$line"; done
  FAILED=1
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# wait_for SECONDS COMMAND...: polls every 0.2 s until COMMAND succeeds.
wait_for() {
  local limit=$(($1 * 5)) i=0
  shift
  until "$@"; do
    i=$((i + 1))
    [ "$i" -le "$limit" ] || return 1
    sleep 0.2
  done
}

# start_daemon WHICH CONF: the checker process in the foreground; DAEMON_PID is the top process.
start_daemon() {
  local which=$1 conf=$2
  DAEMON_LOG=$WORK/$which.log
  rm -f "$WORK"/*.pid
  if [ "$which" = keepalived ]; then
    /usr/sbin/keepalived -C -n -l -f "$conf" -p "$WORK/main.pid" -c "$WORK/checkers.pid" >"$DAEMON_LOG" 2>&1 &
  else
    "$LVS_BIN/vrrpd" -C -n -l -f "$conf" -p "$WORK/main.pid" -c "$WORK/checkers.pid" >"$DAEMON_LOG" 2>&1 &
  fi
  DAEMON_PID=$!
}
# The processes of the daemon: keepalived's parent and its checker child, or ours (one process).
daemon_pids() {
  local pids=$DAEMON_PID child
  child=$(cat "$WORK/checkers.pid" 2>/dev/null)
  [ -n "$child" ] && [ "$child" != "$DAEMON_PID" ] && pids="$pids $child"
  echo "$pids"
}
stop_daemon() {
  kill -TERM "$DAEMON_PID" 2>/dev/null
  local i=0
  while kill -0 "$DAEMON_PID" 2>/dev/null && [ $i -lt 300 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  kill -KILL "$DAEMON_PID" 2>/dev/null
  wait "$DAEMON_PID" 2>/dev/null
  "$IPVSADM" -C
}

services() { "$IPVSADM" -Ln | grep -c '^TCP'; }
destinations() { "$IPVSADM" -Ln | grep -c -- '->.*Masq'; }
has_services() { [ "$(services)" -eq "$1" ]; }
no_destinations() { [ "$(destinations)" -eq 0 ]; }
changed_weight() { "$IPVSADM" -Ln -t "$CHANGED" 2>/dev/null | awk '$1 == "->" && $3 == "Masq" { print $4 }'; }
weight_is() { [ "$(changed_weight)" = "$1" ]; }

tracer() { echo "$2" >"$TRACING/$1"; }
# The trace since the marker: "MS COUNT", the time from the marker to the last table-changing
# IPVS command and the number of those commands.
trace_figures() {
  awk '
    /^#/ { next }
    {
      for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+:$/) { t = substr($i, 1, length($i) - 1); break }
      if ($0 ~ /tracing_mark_write: reload/) { marker = t; count = 0; last = t; next }
      if (marker != "" && $0 ~ /ip_vs_genl_set_cmd/) { count++; last = t }
    }
    END { if (marker == "") print "none"; else printf "%.1f %d\n", (last - marker) * 1000, count }
  ' "$TRACING/trace"
}

# reload WHICH: RESULT lines for the reload latency and the kernel operations of each reload.
reload() {
  local which=$1 rep ms=() ops=() figures expected
  cp "$BENCH_DIR/reload-a.conf" "$WORK/reload.conf"
  start_daemon "$which" "$WORK/reload.conf"
  if ! wait_for 300 has_services "$RELOAD_SERVICES"; then
    broken "$which did not program $RELOAD_SERVICES services (it has $(services))" "$(tail -n 10 "$DAEMON_LOG")"
    stop_daemon
    return 1
  fi
  sleep 5
  for ((rep = 1; rep <= REPS; rep++)); do
    if [ $((rep % 2)) = 1 ]; then
      cp "$BENCH_DIR/reload-b.conf" "$WORK/reload.new"; expected=2
    else
      cp "$BENCH_DIR/reload-a.conf" "$WORK/reload.new"; expected=1
    fi
    mv "$WORK/reload.new" "$WORK/reload.conf"
    tracer trace ""
    tracer tracing_on 1
    echo reload >"$TRACING/trace_marker"
    kill -HUP "$DAEMON_PID"
    if ! wait_for 120 weight_is "$expected"; then
      tracer tracing_on 0
      broken "$which: the weight did not become $expected after the reload" "$(tail -n 10 "$DAEMON_LOG")"
      stop_daemon
      return 1
    fi
    # Whatever else the reload sends comes within this.
    sleep 2
    tracer tracing_on 0
    figures=$(trace_figures)
    if [ "$figures" = none ]; then
      broken "$which: the trace lost its marker"
      stop_daemon
      return 1
    fi
    ms+=("${figures% *}")
    ops+=("${figures#* }")
    say "$which reload $rep: ${ms[-1]} ms, ${ops[-1]} IPVS operations"
    sleep 1
  done
  stop_daemon
  echo "SAMPLES reload-ms $which ${ms[*]}"
  echo "SAMPLES reload-ops $which ${ops[*]}"
  RELOAD_MS[$which]=$(median "${ms[@]}")
  RELOAD_OPS[$which]=$(median "${ops[@]}")
}

split_ticks() { # user and system ticks added up
  local pid user=0 system=0
  for pid in "$@"; do
    read -r u s <<<"$(awk '{ print $14, $15 }' "/proc/$pid/stat")"
    user=$((user + u)); system=$((system + s))
  done
  echo "$user $system"
}
rss_kb() {
  local total=0 pid
  for pid in "$@"; do total=$((total + $(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"))); done
  echo "$total"
}

# cpu WHICH: RESULT lines for CPU (user, system, both) and memory.
cpu() {
  local which=$1 pids before after hz
  start_daemon "$which" "$BENCH_DIR/cpu.conf"
  if ! wait_for 120 has_services "$CPU_SERVICES"; then
    broken "$which did not program $CPU_SERVICES services" "$(tail -n 10 "$DAEMON_LOG")"
    stop_daemon
    return 1
  fi
  if ! wait_for 300 no_destinations; then
    broken "$which: $(destinations) real servers still in the table" "$(tail -n 10 "$DAEMON_LOG")"
    stop_daemon
    return 1
  fi
  sleep 5
  pids=$(daemon_pids)
  hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
  # shellcheck disable=SC2086
  before=$(split_ticks $pids)
  sleep "$CPU_SECONDS"
  # shellcheck disable=SC2086
  after=$(split_ticks $pids)
  # shellcheck disable=SC2086
  CPU_RSS[$which]=$(awk -v kb="$(rss_kb $pids)" 'BEGIN { printf "%.1f", kb / 1024 }')
  stop_daemon
  # (No process substitution: the guest has no /dev/fd.)
  read -r user system <<<"$(awk -v b="$before" -v a="$after" -v hz="$hz" -v s="$CPU_SECONDS" 'BEGIN {
    split(b, x, " "); split(a, y, " ")
    printf "%.2f %.2f\n", (y[1] - x[1]) / hz / s * 100, (y[2] - x[2]) / hz / s * 100 }')"
  CPU_USER[$which]=$user
  CPU_SYSTEM[$which]=$system
  CPU_TOTAL[$which]=$(awk -v u="$user" -v s="$system" 'BEGIN { printf "%.2f", u + s }')
  say "$which: $user % user + $system % system of one core, ${CPU_RSS[$which]} MB resident ($pids)"
}

say "kernel $(uname -r), $REPS reloads, CPU over $CPU_SECONDS s"
modprobe ip_vs || { broken "modprobe ip_vs failed"; exit 1; }
mount -t tracefs tracefs "$TRACING" 2>/dev/null
if ! tracer set_ftrace_filter ip_vs_genl_set_cmd || ! tracer current_tracer function; then
  broken "the function tracer cannot follow ip_vs_genl_set_cmd"
  exit 1
fi
tracer tracing_on 0
# What the reload configuration's checks connect to.
mkdir -p "$WORK/www"
busybox httpd -p 127.0.0.1:8080 -h "$WORK/www" || { broken "busybox httpd did not start"; exit 1; }
RELOAD_SERVICES=$(grep -c '^virtual_server' "$BENCH_DIR/reload-a.conf")
CPU_SERVICES=$(grep -c '^virtual_server' "$BENCH_DIR/cpu.conf")
CHECKERS=$(grep -c 'TCP_CHECK' "$BENCH_DIR/cpu.conf")
[ "$ONLY" = cpu ] || say "reload: $RELOAD_SERVICES virtual servers, $CHANGED's weight alternating 1 and 2"
declare -A RELOAD_MS=() RELOAD_OPS=() CPU_USER=() CPU_SYSTEM=() CPU_TOTAL=() CPU_RSS=()
if [ "$ONLY" != cpu ]; then
  for which in keepalived ours; do reload "$which"; done
fi
if [ "$ONLY" != reload ]; then
  say "CPU: $CHECKERS TCP_CHECKs at delay_loop 1 in $CPU_SERVICES virtual servers"
  for which in keepalived ours; do cpu "$which"; done
fi

result() { # NAME ARRAY
  local -n values=$2
  [ -n "${values[keepalived]:-}" ] && [ -n "${values[ours]:-}" ] && echo "RESULT $1 ${values[keepalived]} ${values[ours]}"
}
result reload-ms RELOAD_MS
result reload-ops RELOAD_OPS
result cpu-user CPU_USER
result cpu-system CPU_SYSTEM
result cpu-total CPU_TOTAL
result rss-mb CPU_RSS
exit "$FAILED"
