# shellcheck shell=bash
# Helpers for the VM suites. A suite is a bash script in this folder; the VM's /init runs it with
#   SUITE    - the suite's name (its file name without .sh)
#   RESULTS  - where result lines go (the second serial port)
#   LVS_BIN  - the folder of our binaries (ipvsadm, ipvsadm-save, ipvsadm-restore, vrrpd)
# The reference tools keep their Debian paths: /usr/sbin/ipvsadm, /usr/sbin/keepalived, ...
#
# Each check reports one line, "PASS suite/check" or "FAIL suite/check: reason" followed by details.

REF_IPVSADM=/usr/sbin/ipvsadm
OUR_IPVSADM=$LVS_BIN/ipvsadm
# Test servers built from this repository (crates/lvs-runtime/examples/dns_responder.rs).
DNS_RESPONDER=/opt/lvs/tools/dns-responder

pass() { printf 'PASS %s/%s\n' "$SUITE" "$1" >"$RESULTS"; }

# fail CHECK REASON [DETAIL...]: each DETAIL argument may hold several lines.
fail() {
  local check=$1 reason=$2
  shift 2
  {
    printf 'FAIL %s/%s: %s\n' "$SUITE" "$check" "$reason"
    local detail
    for detail in "$@"; do printf '%s\n' "$detail" | sed 's/^/    | /'; done
  } >"$RESULTS"
}

# check CHECK COMMAND...: passes when COMMAND exits 0.
check() {
  local name=$1 out status
  shift
  out=$("$@" 2>&1)
  status=$?
  if [ "$status" -eq 0 ]; then pass "$name"; else fail "$name" "\`$*\` exited with $status" "$out"; fi
}

# check_eq CHECK EXPECTED ACTUAL
check_eq() {
  if [ "$2" == "$3" ]; then
    pass "$1"
  else
    fail "$1" "unexpected value" "differences (- expected, + actual):" "$(differences "$2" "$3")" \
      "expected:" "$2" "actual:" "$3"
  fi
}

# differences A B: a unified diff of two texts without its file header, first and short, since a
# long failure's details are cut where a CI log shows only its start.
differences() {
  diff -u <(printf '%s\n' "$1") <(printf '%s\n' "$2") | tail -n +3 | head -n 60
}

# check_same_log CHECK OURS REFERENCE OUR_LOG REFERENCE_LOG: passes when OURS and REFERENCE, two logs
# normalised alike, are the same; a failure shows both, then both logs as written.
check_same_log() {
  if [ "$2" == "$3" ]; then
    pass "$1"
  else
    fail "$1" "the logs differ" "differences (- keepalived's, + ours; normalised):" \
      "$(differences "$3" "$2")" "keepalived's, normalised:" "$3" "ours, normalised:" "$2" \
      "ours:" "$(cat "$4")" "keepalived's:" "$(cat "$5")"
  fi
}

# note_script: $WORK/note.sh, a script that appends its arguments as one line to $WORK/notes (what
# notify and quorum scripts ran).
note_script() {
  printf '#!/bin/sh\necho "$*" >>%s/notes\n' "$WORK" >"$WORK/note.sh"
  chmod 755 "$WORK/note.sh"
}

# check_fails CHECK COMMAND...: passes when COMMAND exits non-zero.
check_fails() {
  local name=$1 out status
  shift
  out=$("$@" 2>&1)
  status=$?
  if [ "$status" -ne 0 ]; then pass "$name"; else fail "$name" "\`$*\` succeeded" "$out"; fi
}

# stop_daemon: SIGTERM to the daemon in $DAEMON_PID and wait for it to end (SIGKILL after 10 s, which
# fails the checks that follow: its rules and addresses stay).
stop_daemon() {
  kill -TERM "$DAEMON_PID" 2>/dev/null
  local i=0
  while kill -0 "$DAEMON_PID" 2>/dev/null && [ $i -lt 100 ]; do
    grep -q '^State:.*Z' "/proc/$DAEMON_PID/status" 2>/dev/null && break
    sleep 0.1
    i=$((i + 1))
  done
  kill -KILL "$DAEMON_PID" 2>/dev/null
  wait "$DAEMON_PID" 2>/dev/null
}

# in NAMESPACE COMMAND...: run a command in a network namespace.
in_ns() {
  local ns=$1
  shift
  ip netns exec "$ns" "$@"
}

# wait_until SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds.
wait_until() {
  local limit=$1 i=0
  shift
  while ! "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -ge $((limit * 10)) ] && return 1
    sleep 0.1
  done
}

# new_ns NAME: a network namespace with its loopback up (IPv4 destinations need a local table).
new_ns() {
  ip netns add "$1" && in_ns "$1" ip link set lo up
}

# veth_into NAME NS ADDRESS/LEN BRIDGE: a veth pair with one end named NAME in NS, the other in BRIDGE.
# A pair of the same name left by an earlier suite goes first: the kernel dismantles a deleted
# namespace in the background, and its veth ends outlive it for a while.
veth_into() {
  local name=$1 ns=$2 addr=$3 bridge=$4 peer=${4}-${2}
  peer=${peer:0:15}
  ip link del "$peer" 2>/dev/null
  ip link add "$peer" type veth peer name "$name" netns "$ns" &&
    ip link set "$peer" master "$bridge" up &&
    in_ns "$ns" ip addr add "$addr" dev "$name" &&
    in_ns "$ns" ip link set "$name" up
}

# new_bridge NAME: a bridge in the initial namespace, replacing one an earlier suite left there.
new_bridge() {
  ip link del "$1" 2>/dev/null
  ip link add "$1" type bridge && ip link set "$1" up
}

# A web server in NS on ADDRESS:80 whose page names it.
start_httpd() {
  local ns=$1 addr=$2 page=$3
  mkdir -p "/tmp/www-$ns"
  echo "$page" >"/tmp/www-$ns/index.html"
  in_ns "$ns" busybox httpd -p "$addr:80" -h "/tmp/www-$ns"
  wait_until 5 in_ns "$ns" busybox wget -q -O /dev/null "http://$addr/"
}

# httpd_pid NS: the pid of the busybox httpd of start_httpd in NS.
httpd_pid() {
  local pid
  for pid in $(ip netns pids "$1"); do
    grep -q httpd "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
  done
}

# fetch NS URL: one HTTP GET from NS, the page on stdout (busybox wget has no -T: bound it with timeout).
fetch() {
  in_ns "$1" timeout 5 busybox wget -q -O - "$2"
}

# The LVS-NAT topology:
#
#   client 10.0.1.2 --[br-front]-- 10.0.1.1 director 10.0.2.1 --[br-back]-- rs1 10.0.2.11
#                                  VIP 10.0.1.100                          \- rs2 10.0.2.12
#
# The real servers route through the director; each serves a page naming itself on port 80.
VIP=10.0.1.100
RS1=10.0.2.11
RS2=10.0.2.12
nat_topology() {
  new_bridge br-front && new_bridge br-back || return 1
  local ns
  for ns in client director rs1 rs2; do new_ns "$ns" || return 1; done
  veth_into eth0 client 10.0.1.2/24 br-front &&
    veth_into eth0 director 10.0.1.1/24 br-front &&
    in_ns director ip addr add "$VIP/24" dev eth0 &&
    veth_into eth1 director 10.0.2.1/24 br-back &&
    veth_into eth0 rs1 "$RS1/24" br-back &&
    veth_into eth0 rs2 "$RS2/24" br-back || return 1
  in_ns rs1 ip route add default via 10.0.2.1
  in_ns rs2 ip route add default via 10.0.2.1
  # A closed port answers every probe with its ICMP error: the kernel's rate limit (a token a
  # second, a burst of six, per peer) would now and then turn a refusal into a timeout, and what a
  # checker logs would depend on the two daemons' timing.
  for ns in rs1 rs2; do
    in_ns "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
  done
  in_ns director sysctl -qw net.ipv4.ip_forward=1
  start_httpd rs1 "$RS1" rs1 && start_httpd rs2 "$RS2" rs2
}

# count_backends NS URL N: N sequential requests; prints "rs1=A rs2=B ..." (sorted by name), "none"
# counting the requests nobody answered. The loop runs in one busybox shell in NS: a process per
# request costs about 0.1 s under TCG.
count_backends() {
  local ns=$1 url=$2 n=$3
  # shellcheck disable=SC2016 # expanded by the inner shell
  in_ns "$ns" busybox sh -c 'i=0; while [ $i -lt "$2" ]; do i=$((i + 1)); timeout 5 wget -q -O - "$1" || echo none; done' \
    - "$url" "$n" | sort | uniq -c | awk '{printf "%s%s=%s", sep, $2, $1; sep=" "} END {print ""}'
}

# vip_real_servers: make rs1 and rs2 of nat_topology real servers for direct routing (-g) and
# tunnelling (-i), on the client's LAN as well (eth1, 10.0.1.11 and .12 on br-front) so that their
# replies bypass the director. The VIP is on lo and not answered in ARP (the client must reach it
# through the director); tunl0 is up to decapsulate IPIP, with rp_filter off since the inner source
# is routed back through another interface; a web server on the VIP says "rs1-vip" ("rs2-vip"), so
# a page shows that the packet reached the server with its destination unchanged.
vip_real_servers() {
  modprobe ipip || return 1
  local ns n=10
  for ns in rs1 rs2; do
    n=$((n + 1))
    mkdir -p "/tmp/www-$ns-vip" && echo "$ns-vip" >"/tmp/www-$ns-vip/index.html" || return 1
    # Applets win over PATH in busybox sh: iproute2 by its path.
    in_ns "$ns" busybox sh -ec "
      for f in all/arp_ignore:1 all/arp_announce:2 all/rp_filter:0; do
        echo \${f#*:} >/proc/sys/net/ipv4/conf/\${f%:*}
      done
      /bin/ip addr add $VIP/32 dev lo
      /bin/ip link set tunl0 up
      echo 0 >/proc/sys/net/ipv4/conf/tunl0/rp_filter
      httpd -p $VIP:80 -h /tmp/www-$ns-vip" || return 1
    veth_into eth1 "$ns" "10.0.1.$n/24" br-front || return 1
    wait_until 5 in_ns "$ns" busybox wget -q -O /dev/null "http://$VIP/" || return 1
  done
}

# start_checkers WHICH CONF LOG: the checker process alone (-C) of keepalived 2.2.7 (WHICH keepalived)
# or ours (WHICH ours) in the director namespace on CONF, its detailed lines (-D) appended to LOG; its
# pid in DAEMON_PID.
start_checkers() {
  local which=$1 conf=$2 log=$3 dir
  dir=$(dirname "$log")
  if [ "$which" = keepalived ]; then
    ip netns exec director /usr/sbin/keepalived -C -n -l -D -f "$conf" -p "$dir/ka.pid" \
      -c "$dir/ka-c.pid" >>"$log" 2>&1 &
  else
    ip netns exec director "$LVS_BIN/vrrpd" -C -n -l -D -f "$conf" -p "$dir/our.pid" \
      -c "$dir/our-c.pid" >>"$log" 2>&1 &
  fi
  DAEMON_PID=$!
}

# checker_log_stages: a checker process's log on stdin, with "=== STAGE" lines written between the
# stages, as each stage's lines without timestamps and sorted (servers are checked in a random order),
# the stage marker first. Left out: the lines of keepalived's parent process that -C alone does not
# have in ours (version, kernel, command line, "Configuration file", its NOTICE, "Starting Healthcheck
# child process", CPU usage), ours' own additions (version lines, "Reload finished" with its timings,
# the reason of each failed attempt under -D), "Startup complete" (keepalived's parent logs it while
# its child starts, so its place varies), "Child process N in our process group N" (keepalived logs it
# when it stops in the instant between forking a script and the script's setpgid) and the CPU times
# of "Stopped - used".
checker_log_stages() {
  sed -E 's/^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} [0-9]{4}: //' |
    sed -E 's/^(Stopped - used) .*/\1/' |
    grep -vE '^(Starting Keepalived|Starting vrrpd|Running on|Command line|  +|Configuration file|NOTICE: |Starting Healthcheck child process|CPU usage|Stopped Keepalived|Stopped vrrpd|Startup complete|Child process [0-9]+ in our process group|Reload finished: |[A-Z_]+ of \[)' |
    awk '/^=== / { if (n) print_stage(); print; n = 0; next } { lines[n++] = $0 }
         END { if (n) print_stage() }
         function print_stage(  i, cmd) { cmd = "sort"; for (i = 0; i < n; i++) print lines[i] | cmd; close(cmd) }'
}
