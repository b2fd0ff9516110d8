#!/usr/bin/env bash
# Benchmark the checker process (`vrrpd -C`) against keepalived 2.2.7's (`keepalived -C`).
#
#   scripts/lib/bench-lvs.sh [--services N] [--checkers N] [--vm-checkers N] [--reps N] [--cpu-seconds S]
#                            [--only reload|cpu] [--no-vm] [--no-host]
#
# In the VM (real IPVS, both daemons on the same kernel, one after the other; scripts/lib/bench-lvs-guest.sh):
# (a) reload of N virtual servers (10000 by default; one real server and one TCP_CHECK each) where one
#     real server's weight changed: from a trace marker written just before SIGHUP to the last IPVS
#     command that changed the table (the kernel's function tracer on ip_vs_genl_set_cmd), and the
#     number of those commands; --reps reloads (3 by default), medians. keepalived's reload of 10,000
#     virtual servers takes minutes under emulation: this part is most of the run's half hour.
# (b) CPU (user + system over --cpu-seconds, 20 by default, once settled) and resident memory of
#     --vm-checkers TCP_CHECKs (1000 by default, 100 per virtual server, real servers on closed local
#     ports) at delay_loop 1: every attempt is a refused connection, every server out of the table.
#     10,000 attempts a second fill the emulated CPU for either daemon, hence fewer in the VM.
# Software emulation (TCG, one virtual CPU) makes the kernel's part slow, so the VM's figures are
# compared as ratios keepalived / ours.
# On the host (no IPVS; --no-host to skip): ours alone (keepalived's checker process does not run
# without IPVS), the same CPU and memory measure of --checkers TCP_CHECKs (10000 by default, 1000 per
# virtual server), and the reload from SIGHUP to its "Reload finished"
# line (nanosecond timestamps of --log-file), which is the whole reload but the kernel's part, and the
# CPU time it took (which the load of other work on the machine does not inflate). After the CPU
# measure, the kernel's share of it alone: as many refused loopback connections a second, made as the
# checkers make them, by a program that does nothing else (crates/lvs-runtime/examples/refused_connects.rs).
# Targets (the issue's): reload <= 50 ms with exactly one IPVS operation; CPU < 10 % of one core and
# RSS < 50 MB. Exits non-zero when a measurement fails or ours misses a target measured.
# Environment: CARGO_TARGET_DIR (where the release vrrpd is built), VRRPD (use this binary instead),
# VM_RUN (the VM's work directory).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/vm.sh
. "$ROOT/scripts/lib/vm.sh"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

SERVICES=10000
CHECKERS=10000
VM_CHECKERS=1000
REPS=3
CPU_SECONDS=20
ONLY=
IN_VM=1
ON_HOST=1
usage() { sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; }
number() { [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "bench-lvs: $1 needs a positive number" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case $1 in
    --services) number "$1" "${2:-}"; SERVICES=$2; shift ;;
    --checkers) number "$1" "${2:-}"; CHECKERS=$2; shift ;;
    --vm-checkers) number "$1" "${2:-}"; VM_CHECKERS=$2; shift ;;
    --reps) number "$1" "${2:-}"; REPS=$2; shift ;;
    --cpu-seconds) number "$1" "${2:-}"; CPU_SECONDS=$2; shift ;;
    --only) case ${2:-} in reload|cpu) ONLY=$2 ;; *) echo "bench-lvs: --only reload|cpu" >&2; exit 2 ;; esac; shift ;;
    --no-vm) IN_VM= ;;
    --no-host) ON_HOST= ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-lvs: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ "$SERVICES" -le 65536 ] || { echo "bench-lvs: at most 65536 services" >&2; exit 2; }
[ "$CHECKERS" -le 40000 ] && [ "$VM_CHECKERS" -le 40000 ] || { echo "bench-lvs: at most 40000 checkers" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench-lvs: needs root (the VM, network namespaces)" >&2; exit 2; }

if [ -z "${VRRPD:-}" ]; then
  echo "building release vrrpd..." >&2
  (cd "$ROOT" && cargo build --release -q -p vrrpd) || exit 1
  VRRPD=$TARGET_DIR/release/vrrpd
fi
if [ -n "$ON_HOST" ] && [ "$ONLY" != reload ]; then
  (cd "$ROOT" && cargo build --release -q -p lvs-runtime --example refused_connects) || exit 1
  REFUSED_CONNECTS=$TARGET_DIR/release/examples/refused_connects
fi

WORK=$(mktemp -d /tmp/bench-lvs.XXXXXX)
HOST_PID=
LISTENER=
NS=bench-lvs-$$
cleanup() {
  [ -n "$HOST_PID" ] && kill -KILL "$HOST_PID" 2>/dev/null
  [ -n "$LISTENER" ] && kill -KILL "$LISTENER" 2>/dev/null
  wait 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# reload_config N CHANGED_INDEX WEIGHT: N virtual servers 10.1.x.y:80, each with one real server
# 10.2.x.y:8080 and a TCP_CHECK; the real server of CHANGED_INDEX has WEIGHT, the others 1. The checks
# connect to a local listener (127.0.0.1:8080) and run once an hour (spread over it), so every server
# stays in and the kernel hears only of the reloads.
reload_config() {
  awk -v services="$1" -v changed="$2" -v weight="$3" 'BEGIN {
    print "global_defs {\n    router_id bench\n}"
    for (i = 0; i < services; i++) {
      a = int(i / 256); b = i % 256
      printf "virtual_server 10.1.%d.%d 80 {\n    delay_loop 3600\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n", a, b
      printf "    real_server 10.2.%d.%d 8080 {\n        weight %d\n", a, b, i == changed ? weight : 1
      print "        TCP_CHECK {\n            connect_ip 127.0.0.1\n            connect_port 8080\n            connect_timeout 3\n            retry 3\n            delay_before_retry 3600\n        }\n    }\n}"
    }
  }'
}
# cpu_config N PER: N TCP_CHECKs at delay_loop 1, PER real servers per virtual server, each real server
# 127.0.0.1 on a port where nothing listens.
cpu_config() {
  awk -v checkers="$1" -v per="$2" 'BEGIN {
    print "global_defs {\n    router_id bench\n}"
    for (v = 0; v * per < checkers; v++) {
      printf "virtual_server 10.3.0.%d 80 {\n    delay_loop 1\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n", v + 1
      for (j = v * per; j < checkers && j < (v + 1) * per; j++)
        printf "    real_server 127.0.0.1 %d {\n        TCP_CHECK {\n            connect_timeout 1\n        }\n    }\n", 20000 + j
      print "}"
    }
  }'
}
CHANGED_INDEX=$((SERVICES / 2))
CHANGED="10.1.$((CHANGED_INDEX / 256)).$((CHANGED_INDEX % 256)):80"
reload_config "$SERVICES" "$CHANGED_INDEX" 1 >"$WORK/reload-a.conf"
reload_config "$SERVICES" "$CHANGED_INDEX" 2 >"$WORK/reload-b.conf"
cpu_config "$CHECKERS" 1000 >"$WORK/cpu.conf"
cpu_config "$VM_CHECKERS" 100 >"$WORK/cpu-vm.conf"

FAILED=
verdict() { awk -v v="$1" -v limit="$2" 'BEGIN { print (v <= limit) ? "met" : "MISSED" }'; }
ratio() { awk -v r="$1" -v o="$2" 'BEGIN { if (o > 0) printf "%.1fx", r / o; else print "-" }'; }

if [ -n "$IN_VM" ]; then
  vm_prepare
  printf 'REPS=%s\nCPU_SECONDS=%s\nCHANGED=%s\nONLY=%s\n' "$REPS" "$CPU_SECONDS" "$CHANGED" "$ONLY" >"$WORK/settings"
  PLAN=$VM_RUN/plan
  printf 'timeout %s\nbench /opt/lvs/bench-lvs.sh\n' 2400 >"$PLAN"
  vm_build_overlay "$PLAN" \
    "$ROOT/scripts/lib/bench-lvs-guest.sh:/opt/lvs/bench-lvs.sh" \
    "$WORK/settings:/opt/lvs/bench/settings" \
    "$WORK/reload-a.conf:/opt/lvs/bench/reload-a.conf" \
    "$WORK/reload-b.conf:/opt/lvs/bench/reload-b.conf" \
    "$WORK/cpu-vm.conf:/opt/lvs/bench/cpu.conf" \
    "$VRRPD:$VM_OUR_BIN/vrrpd"
  VM_MEMORY=2G
  vm_log "booting $VM_KVER: reload of $SERVICES virtual servers, $VM_CHECKERS TCP_CHECKs"
  vm_reset_logs
  vm_boot 2500 &
  QEMU=$!
  tail -n +1 -f --pid="$QEMU" "$VM_RUN/results.log" 2>/dev/null | grep --line-buffered -v '^END$\|^RESULT \|^SAMPLES '
  wait "$QEMU"
  LOG=$VM_RUN/results.log
  if ! grep -qx END "$LOG"; then
    echo "bench-lvs: the VM run did not complete; console: $VM_RUN/console.log" >&2
    tail -n 20 "$VM_RUN/console.log" | sed 's/^/    | /' >&2
    FAILED=1
  elif grep -q '^BROKEN \|^FAIL ' "$LOG"; then
    FAILED=1
  fi
  figure() { awk -v name="$1" -v field="$2" '$1 == "RESULT" && $2 == name { print $field }' "$LOG"; }
  echo
  echo "In the VM (TCG, 1 virtual CPU, kernel $VM_KVER):"
  printf '  %-44s %12s %12s %8s  %s\n' measure keepalived vrrpd ratio target
  line() { # NAME LABEL TARGET LIMIT
    local ref ours
    ref=$(figure "$1" 3); ours=$(figure "$1" 4)
    [ -n "$ref" ] && [ -n "$ours" ] || { echo "  $2: no result"; FAILED=1; return; }
    local judged=
    if [ -n "$4" ]; then
      judged=$(verdict "$ours" "$4")
      [ "$judged" = met ] || FAILED=1
    fi
    printf '  %-44s %12s %12s %8s  %s %s\n' "$2" "$ref" "$ours" "$(ratio "$ref" "$ours")" "$3" "$judged"
  }
  [ "$ONLY" = cpu ] || line reload-ms "reload of $SERVICES, one changed (ms)" "(<= 50 ms on the host)" ""
  [ "$ONLY" = cpu ] || line reload-ops "IPVS operations of that reload" "== 1" ""
  ops=$(figure reload-ops 4)
  if [ -n "$ops" ]; then
    if [ "$ops" = 1 ]; then echo "    ours: exactly the one change: met"; else echo "    ours: $ops operations: MISSED"; FAILED=1; fi
  fi
  [ "$ONLY" = reload ] || line cpu-user "$VM_CHECKERS TCP_CHECKs, delay_loop 1: user (%)" "" ""
  [ "$ONLY" = reload ] || line cpu-system "  system (%)" "" ""
  [ "$ONLY" = reload ] || line cpu-total "  user + system (% of one core)" "(10,000: < 10 % on the host)" ""
  [ "$ONLY" = reload ] || line rss-mb "  resident memory (MB)" "(10,000: < 50 MB on the host)" ""
fi

# On the host: ours alone, without IPVS.
host_cpu() {
  ip netns exec "$NS" "$VRRPD" -C --without-ipvs -n -G -l -f "$WORK/cpu.conf" -p "$WORK/cpu.pid" -c "$WORK/cpu-c.pid" >"$WORK/cpu.log" 2>&1 &
  HOST_PID=$!
  # All servers fail within a few seconds (connect_timeout 1, one retry after 1 s).
  sleep 10
  kill -0 "$HOST_PID" 2>/dev/null || { echo "bench-lvs: vrrpd -C stopped:" >&2; tail -n 5 "$WORK/cpu.log" >&2; return 1; }
  local hz before after rss
  hz=$(getconf CLK_TCK)
  before=$(awk '{ print $14, $15 }' "/proc/$HOST_PID/stat")
  sleep "$CPU_SECONDS"
  after=$(awk '{ print $14, $15 }' "/proc/$HOST_PID/stat")
  rss=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$HOST_PID/status")
  local attempts
  attempts=$(grep -c 'TCP_CHECK on service .* failed' "$WORK/cpu.log")
  kill -TERM "$HOST_PID"; wait "$HOST_PID" 2>/dev/null; HOST_PID=
  read -r user system total < <(awk -v b="$before" -v a="$after" -v hz="$hz" -v s="$CPU_SECONDS" 'BEGIN {
    split(b, x, " "); split(a, y, " "); u = (y[1] - x[1]) / hz / s * 100; k = (y[2] - x[2]) / hz / s * 100
    printf "%.2f %.2f %.2f\n", u, k, u + k }')
  local cpu_verdict rss_verdict
  cpu_verdict=$(awk -v t="$total" 'BEGIN { print (t < 10) ? "met" : "MISSED" }')
  rss_verdict=$(awk -v r="$rss" 'BEGIN { print (r < 50) ? "met" : "MISSED" }')
  [ "$cpu_verdict" = met ] && [ "$rss_verdict" = met ] || FAILED=1
  printf '  %s TCP_CHECKs at delay_loop 1: %s %% user + %s %% system = %s %% of one core (target < 10 %%: %s), %s MB resident (target < 50 MB: %s); %s servers went down\n' \
    "$CHECKERS" "$user" "$system" "$total" "$cpu_verdict" "$rss" "$rss_verdict" "$attempts"
  host_kernel_share "$total"
}
# host_kernel_share OURS_TOTAL: the kernel's work for as many refused loopback connections a second,
# alone (crates/lvs-runtime/examples/refused_connects.rs, the checkers' two connects per attempt),
# right after ours on the same ports, and ours against it.
host_kernel_share() {
  local times user system total
  times=$( { TIMEFORMAT='%U %S'; time ip netns exec "$NS" "$REFUSED_CONNECTS" "$CHECKERS" "$CPU_SECONDS" 20000 >/dev/null; } 2>&1) ||
    { echo "bench-lvs: refused_connects failed: $times" >&2; return 1; }
  read -r user system total < <(awk -v t="$times" -v s="$CPU_SECONDS" 'BEGIN {
    split(t, x, " "); printf "%.2f %.2f %.2f\n", x[1] / s * 100, x[2] / s * 100, (x[1] + x[2]) / s * 100 }')
  printf '    the kernel alone for the same refused connections (examples/refused_connects): %s %% user + %s %% system = %s %% of one core; ours %s\n' \
    "$user" "$system" "$total" "$(awk -v o="$1" -v k="$total" 'BEGIN { printf "%.2f points above it (%.2fx)", o - k, (k > 0) ? o / k : 0 }')"
}
# Nanoseconds since the epoch of a -g log line's timestamp ("Wed Dec 02 00:25:01.123456789 2026: ...").
log_ns() {
  local stamp=${1%%: *}
  local fraction=${stamp##*.}
  fraction=${fraction%% *}
  local seconds
  seconds=$(date -d "$(sed -E 's/\.[0-9]+ / /' <<<"$stamp")" +%s) || return 1
  echo "$seconds${fraction}"
}
host_reload() {
  cp "$WORK/reload-a.conf" "$WORK/reload.conf"
  ip netns exec "$NS" "$VRRPD" -C --without-ipvs -n -G -f "$WORK/reload.conf" --log-file="$WORK/reload.log" --flush-log-file -p "$WORK/reload.pid" -c "$WORK/reload-c.pid" >/dev/null 2>&1 &
  HOST_PID=$!
  sleep 5
  local rep ms=() cpu_ms=() sent done_line ticks_before hz
  hz=$(getconf CLK_TCK)
  for ((rep = 1; rep <= REPS; rep++)); do
    if [ $((rep % 2)) = 1 ]; then cp "$WORK/reload-b.conf" "$WORK/reload.new"; else cp "$WORK/reload-a.conf" "$WORK/reload.new"; fi
    mv "$WORK/reload.new" "$WORK/reload.conf"
    local before
    before=$(grep -c 'Reload finished' "$WORK/reload.log")
    ticks_before=$(awk '{ print $14 + $15 }' "/proc/$HOST_PID/stat")
    sent=$(date +%s%N)
    kill -HUP "$HOST_PID"
    local i=0
    until [ "$(grep -c 'Reload finished' "$WORK/reload.log")" -gt "$before" ]; do
      i=$((i + 1)); [ $i -lt 600 ] || { echo "bench-lvs: no reload on the host" >&2; return 1; }
      sleep 0.05
    done
    done_line=$(grep 'Reload finished' "$WORK/reload.log" | tail -n 1)
    ms+=("$(awk -v a="$sent" -v b="$(log_ns "$done_line")" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')")
    # Its CPU time meanwhile (the rest of the time it sleeps): what the load of other work on the
    # machine does not inflate.
    cpu_ms+=($(( ($(awk '{ print $14 + $15 }' "/proc/$HOST_PID/stat") - ticks_before) * 1000 / hz )))
    sleep 1
  done
  kill -TERM "$HOST_PID"; wait "$HOST_PID" 2>/dev/null; HOST_PID=
  local median cpu_median
  median=$(printf '%s\n' "${ms[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  cpu_median=$(printf '%s\n' "${cpu_ms[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  local judged
  judged=$(verdict "$median" 50)
  [ "$judged" = met ] || FAILED=1
  printf '  reload of %s virtual servers, one changed: %s ms median (%s), SIGHUP to "Reload finished" (target <= 50 ms: %s); CPU %s ms median (%s)\n' \
    "$SERVICES" "$median" "${ms[*]}" "$judged" "$cpu_median" "${cpu_ms[*]}"
  grep 'Reload finished' "$WORK/reload.log" | tail -n 1 | sed 's/^[^:]*:[^:]*:[^:]*: /    last: /'
}
if [ -n "$ON_HOST" ]; then
  echo
  echo "On the host ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), ours alone, no IPVS):"
  # A namespace of its own: nobody else's listeners on the ports checked.
  ip netns add "$NS" && ip -n "$NS" link set lo up || exit 1
  mkdir -p "$WORK/www"
  ip netns exec "$NS" busybox httpd -f -p 127.0.0.1:8080 -h "$WORK/www" &
  LISTENER=$!
  if [ "$ONLY" != reload ]; then host_cpu || FAILED=1; fi
  if [ "$ONLY" != cpu ]; then host_reload || FAILED=1; fi
fi
[ -z "$FAILED" ]
