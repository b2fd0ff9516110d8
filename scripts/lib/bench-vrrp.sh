#!/usr/bin/env bash
# Benchmark the VRRP daemon against keepalived 2.2.7 on the host, in network namespaces (root).
#
#   scripts/lib/bench-vrrp.sh [--reps N] [--cpu-seconds S] [--instances N] [--skip-v2] [--only failover|cpu]
#
# (a) Failover: routers r1 (priority 200, our vrrpd) and r2 (priority 100) on a bridge, one VIP. r2 runs
#     ours, then keepalived. Each repetition SIGKILLs r1's daemon; tcpdump on the bridge gives the time of
#     r1's last advert and of r2's first advert, `ip -ts monitor address` in r2 the time its VIP appears.
#     Printed: medians of last advert -> VIP on r2 and -> r2's first advert, the RFC bound
#     (Master_Down_Interval = 3 x advert_int + Skew_Time, Skew_Time = (256 - 100) / 256 x advert_int for v3,
#     seconds for v2) and whether the median VIP time is within the target (bound x 1.02 + 10 ms).
#     VRRPv3 at 0.1 s (--reps, 10 by default), then VRRPv2 at 1 s (3 repetitions; --skip-v2 to leave out).
# (b) CPU: N instances (1000 by default: 4 veth interfaces x 250 VRIDs, VRRPv3, advert_int 0.1, all
#     master, one VIP each) in one namespace, the same file for both daemons; user + system time of the
#     daemon (keepalived: parent and VRRP child) over --cpu-seconds (20) after they settle, as % of one
#     core, and the ratio keepalived / ours. Target: ours < 5 %.
# Exits non-zero when a measurement fails or ours misses a target.
# Environment: CARGO_TARGET_DIR (where the release vrrpd is built), KEEPALIVED (default
# /usr/sbin/keepalived), VRRPD (use this binary instead of building).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
KEEPALIVED=${KEEPALIVED:-/usr/sbin/keepalived}

REPS=10
CPU_SECONDS=20
INSTANCES=1000
V2=1
ONLY=
usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }
number() { [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "bench-vrrp: $1 needs a positive number" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case $1 in
    --reps) number "$1" "${2:-}"; REPS=$2; shift ;;
    --cpu-seconds) number "$1" "${2:-}"; CPU_SECONDS=$2; shift ;;
    --instances) number "$1" "${2:-}"; INSTANCES=$2; shift ;;
    --skip-v2) V2= ;;
    --only) case ${2:-} in failover|cpu) ONLY=$2 ;; *) echo "bench-vrrp: --only failover|cpu" >&2; exit 2 ;; esac; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-vrrp: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "bench-vrrp: needs root (network namespaces)" >&2; exit 2; }
[ -x "$KEEPALIVED" ] || { echo "bench-vrrp: no $KEEPALIVED" >&2; exit 2; }
command -v tcpdump >/dev/null || { echo "bench-vrrp: needs tcpdump" >&2; exit 2; }
[ "$INSTANCES" -le 1000 ] || { echo "bench-vrrp: at most 1000 instances (4 interfaces x 250 VRIDs)" >&2; exit 2; }

if [ -z "${VRRPD:-}" ]; then
  echo "building release vrrpd..." >&2
  (cd "$ROOT" && cargo build --release -q -p vrrpd) || exit 1
  VRRPD=$TARGET_DIR/release/vrrpd
fi

PREFIX="vb$$"
WORK=$(mktemp -d /tmp/bench-vrrp.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  wait 2>/dev/null
  for ns in $(ip netns list | awk -v p="$PREFIX" 'index($1, p) == 1 { print $1 }'); do ip netns del "$ns"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# Polls up to $1 seconds for a command to succeed.
wait_until() {
  local limit=$1; shift
  local end=$(( $(date +%s%N) + limit * 1000000000 ))
  until "$@"; do [ "$(date +%s%N)" -lt "$end" ] || return 1; sleep 0.02; done
}
has_vip() { ip -n "${PREFIX}r$1" -o addr show dev eth0 2>/dev/null | grep -q " 10.99.0.100/"; }
no_vip() { ! has_vip "$1"; }

# The daemon: $1 namespace, $2 vrrpd|keepalived, $3 config, $4 name; its main pid in STARTED.
start_daemon() {
  local program=$VRRPD
  [ "$2" = keepalived ] && program=$KEEPALIVED
  # A SIGKILLed daemon leaves its pid files, which would stop the next one if the pid were reused.
  rm -f "$WORK/$4.pid" "$WORK/$4-vrrp.pid"
  ip netns exec "$1" "$program" -P -n -l -G -f "$3" -p "$WORK/$4.pid" -r "$WORK/$4-vrrp.pid" \
    >"$WORK/$4.log" 2>&1 </dev/null &
  STARTED=$!
  PIDS+=("$STARTED")
}
vrrp_pid() { cat "$WORK/$1-vrrp.pid" 2>/dev/null; }
# SIGKILL of the process doing VRRP (keepalived: its VRRP child first, or the parent stops it gracefully).
kill_daemon() {
  local pid; pid=$(vrrp_pid "$2")
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}
stop_daemon() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# ---- (a) failover --------------------------------------------------------------------------------
topology() {
  local sw=${PREFIX}sw
  ip netns add "$sw"
  ip -n "$sw" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
  ip -n "$sw" link set br0 up
  for n in 1 2; do
    ip netns add "${PREFIX}r$n"
    ip link add eth0 netns "${PREFIX}r$n" type veth peer name "${PREFIX}p$n" netns "$sw"
    ip -n "$sw" link set "${PREFIX}p$n" master br0 up
    ip -n "${PREFIX}r$n" link set lo up
    ip -n "${PREFIX}r$n" link set eth0 address "02:00:00:00:00:0$n"
    ip -n "${PREFIX}r$n" addr add "10.99.0.$n/24" dev eth0
    ip -n "${PREFIX}r$n" link set eth0 up
  done
}
instance_config() { # version interval priority
  printf 'vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    version %s\n    advert_int %s\n    priority %s\n    virtual_ipaddress {\n        10.99.0.100/24\n    }\n}\n' "$@"
}
# epoch seconds of an `ip -ts monitor` timestamp ([2026-12-01T22:40:00.123456])
iso_epoch() { local t=${1#[}; t=${t%]}; echo "$(date -d "${t%.*}" +%s).${t#*.}"; }

failover() { # version interval backup-implementation reps
  local version=$1 interval=$2 backup=$3 reps=$4 r1= r2=
  instance_config "$version" "$interval" 200 >"$WORK/r1.conf"
  instance_config "$version" "$interval" 100 >"$WORK/r2.conf"
  local status=0
  repetitions || status=1
  # Nothing left running for the next measurement, whatever happened.
  [ -n "$r1" ] && kill_daemon "$r1" r1
  [ -n "$r2" ] && kill_daemon "$r2" r2
  ip -n "${PREFIX}r1" addr del 10.99.0.100/24 dev eth0 2>/dev/null
  ip -n "${PREFIX}r2" addr del 10.99.0.100/24 dev eth0 2>/dev/null
  [ "$status" = 0 ] || return 1
  report
}
# The repetitions of failover(), on its variables.
repetitions() {
  local rep
  start_daemon "${PREFIX}r2" "$backup" "$WORK/r2.conf" r2; r2=$STARTED
  : >"$WORK/vip.txt"; : >"$WORK/advert.txt"
  for rep in $(seq "$reps"); do
    start_daemon "${PREFIX}r1" vrrpd "$WORK/r1.conf" r1; r1=$STARTED
    if ! wait_until 15 has_vip 1 || ! wait_until 15 no_vip 2; then
      echo "bench-vrrp: r1 did not become master" >&2; tail -n 5 "$WORK"/r?.log >&2; return 1
    fi
    sleep "$(awk -v i="$interval" 'BEGIN { print 5 * i + 0.5 }')"
    ip netns exec "${PREFIX}sw" tcpdump -i br0 -n -l -tt --time-stamp-precision=nano 'ip proto 112' \
      >"$WORK/cap.txt" 2>/dev/null &
    local tcpdump_pid=$!
    PIDS+=($tcpdump_pid)
    ip -n "${PREFIX}r2" -ts monitor address dev eth0 >"$WORK/mon.txt" 2>/dev/null &
    local monitor_pid=$!
    PIDS+=($monitor_pid)
    # The capture is running once it has seen r1's adverts.
    wait_until 10 grep -aq ' 10.99.0.1 > ' "$WORK/cap.txt" || { echo "bench-vrrp: no capture" >&2; return 1; }
    sleep "$(awk -v i="$interval" 'BEGIN { print 2 * i + 0.1 }')"
    kill_daemon "$r1" r1
    wait_until 15 has_vip 2 || { echo "bench-vrrp: r2 did not take over" >&2; tail -n 5 "$WORK"/r?.log >&2; return 1; }
    sleep "$(awk -v i="$interval" 'BEGIN { print 2 * i + 0.1 }')"
    kill "$tcpdump_pid" "$monitor_pid" 2>/dev/null; wait "$tcpdump_pid" "$monitor_pid" 2>/dev/null
    local last first vip line
    last=$(LC_ALL=C awk '$3 == "10.99.0.1" { t = $1 } END { print t }' "$WORK/cap.txt")
    first=$(LC_ALL=C awk -v l="$last" '$3 == "10.99.0.2" && $1 > l { print $1; exit }' "$WORK/cap.txt")
    line=$(grep -av 'Deleted' "$WORK/mon.txt" | grep -am1 ' 10.99.0.100/' | awk '{ print $1 }')
    vip=$( [ -n "$line" ] && iso_epoch "$line")
    if [ -z "$last" ] || [ -z "$first" ] || [ -z "$vip" ]; then
      echo "bench-vrrp: repetition $rep: capture incomplete (last=$last first=$first vip=$vip)" >&2; return 1
    fi
    awk -v a="$last" -v b="$vip" 'BEGIN { printf "%.6f\n", b - a }' >>"$WORK/vip.txt"
    awk -v a="$last" -v b="$first" 'BEGIN { printf "%.6f\n", b - a }' >>"$WORK/advert.txt"
    # r1 back with priority 200 preempts; r2 releases the VIP before the next repetition.
  done
}
# The medians of failover()'s repetitions against the bound.
report() {
  local bound vip_median advert_median verdict
  bound=$(awk -v v="$version" -v i="$interval" 'BEGIN { skew = (256 - 100) / 256 * (v == 2 ? 1 : i); printf "%.4f", 3 * i + skew }')
  vip_median=$(median <"$WORK/vip.txt")
  advert_median=$(median <"$WORK/advert.txt")
  verdict=$(awk -v m="$vip_median" -v b="$bound" 'BEGIN { print (m <= b * 1.02 + 0.010) ? "within" : "OUTSIDE" }')
  printf '  v%s %-4ss  backup %-10s  last advert -> VIP %7.1f ms, -> first advert %7.1f ms (median of %d; VIP min %.1f max %.1f)  bound %.1f ms: %s bound x 1.02 + 10 ms\n' \
    "$version" "$interval" "$backup" "$(awk -v m="$vip_median" 'BEGIN { print m * 1000 }')" \
    "$(awk -v m="$advert_median" 'BEGIN { print m * 1000 }')" "$reps" \
    "$(sort -g "$WORK/vip.txt" | head -1 | awk '{ print $1 * 1000 }')" \
    "$(sort -g "$WORK/vip.txt" | tail -1 | awk '{ print $1 * 1000 }')" \
    "$(awk -v b="$bound" 'BEGIN { print b * 1000 }')" "$verdict"
  [ "$backup" = keepalived ] || [ "$verdict" = within ] || FAILED=1
}

# ---- (b) CPU -------------------------------------------------------------------------------------
cpu_config() {
  awk -v n="$INSTANCES" 'BEGIN {
    print "global_defs {\n    router_id bench\n}"
    for (k = 0; k < n; k++) {
      i = int(k / 250); v = k % 250 + 1
      printf "vrrp_instance VI_%d_%d {\n    interface d%d\n    virtual_router_id %d\n    version 3\n", i, v, i, v
      printf "    advert_int 0.1\n    priority 200\n    virtual_ipaddress {\n        10.%d.0.%d/32\n    }\n}\n", 100 + i, v
    }
  }'
}
ticks() { local total=0 pid; for pid in "$@"; do total=$(( total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat") )); done; echo $total; }
cpu() { # implementation; % of one core in CPU_RESULT
  local ns=${PREFIX}cpu main pids
  start_daemon "$ns" "$1" "$WORK/cpu.conf" "cpu-$1"; main=$STARTED
  local masters=0 limit=$(( $(date +%s) + 60 ))
  while [ "$masters" -lt "$INSTANCES" ] && [ "$(date +%s)" -lt "$limit" ]; do
    sleep 1; masters=$(grep -c 'Entering MASTER STATE' "$WORK/cpu-$1.log")
  done
  [ "$masters" -ge "$INSTANCES" ] || { echo "bench-vrrp: $1: only $masters of $INSTANCES masters" >&2; stop_daemon "$main"; return 1; }
  sleep 3
  pids="$main"
  [ "$1" = keepalived ] && pids="$main $(vrrp_pid "cpu-$1")"
  local hz before after
  hz=$(getconf CLK_TCK)
  # shellcheck disable=SC2086
  before=$(ticks $pids)
  sleep "$CPU_SECONDS"
  # shellcheck disable=SC2086
  after=$(ticks $pids)
  stop_daemon "$main"
  CPU_RESULT=$(awk -v t=$(( after - before )) -v hz="$hz" -v s="$CPU_SECONDS" 'BEGIN { printf "%.2f", t / hz / s * 100 }')
}

FAILED=
if [ "$ONLY" != cpu ]; then
  topology
  echo "failover (SIGKILL of the master; times from its last advert on the bridge):"
  failover 3 0.1 vrrpd "$REPS" || FAILED=1
  failover 3 0.1 keepalived "$REPS" || FAILED=1
  if [ -n "$V2" ]; then
    failover 2 1 vrrpd 3 || FAILED=1
    failover 2 1 keepalived 3 || FAILED=1
  fi
fi
if [ "$ONLY" != failover ]; then
  ns=${PREFIX}cpu
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  for i in $(seq 0 $(( (INSTANCES - 1) / 250 ))); do
    ip -n "$ns" link add "d$i" type veth peer name "p$i"
    ip -n "$ns" addr add "10.98.$i.1/24" dev "d$i"
    ip -n "$ns" link set "d$i" up
    ip -n "$ns" link set "p$i" up
  done
  cpu_config >"$WORK/cpu.conf"
  echo "CPU of $INSTANCES instances (VRRPv3, advert_int 0.1, all master), ${CPU_SECONDS} s:"
  ours= theirs=
  if cpu vrrpd; then ours=$CPU_RESULT; else FAILED=1; fi
  if cpu keepalived; then theirs=$CPU_RESULT; else FAILED=1; fi
  if [ -n "${ours:-}" ] && [ -n "${theirs:-}" ]; then
    verdict=$(awk -v o="$ours" 'BEGIN { print (o < 5) ? "within" : "OVER" }')
    printf '  vrrpd %s %% of one core, keepalived %s %%, keepalived / vrrpd %s; target < 5 %%: %s\n' \
      "$ours" "$theirs" "$(awk -v o="$ours" -v t="$theirs" 'BEGIN { if (o > 0) printf "%.2f", t / o; else print "inf" }')" "$verdict"
    [ "$verdict" = within ] || FAILED=1
  fi
fi
[ -z "$FAILED" ]
