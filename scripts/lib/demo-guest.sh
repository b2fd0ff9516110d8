# The live demo, inside the VM: an LVS-NAT director balancing real HTTP traffic over two real servers,
# programmed with our ipvsadm.
. "$SUITES/lib.sh"

say() { printf '\n== %s\n' "$*"; }

# ipvsadm ARGS...: our ipvsadm on the director, shown as the operator would type it.
ipvsadm() {
  printf 'director# ipvsadm %s\n' "$*"
  in_ns director "$OUR_IPVSADM" "$@"
}

requests() {
  local i
  for i in $(seq "$1"); do
    printf 'request %2d -> %s\n' "$i" "$(fetch client "http://$VIP/" || echo '(no answer)')"
  done
}

# Connections of the service in our --stats listing (the kernel folds its counters every 2 s).
service_conns_are() {
  [ "$(in_ns director "$OUR_IPVSADM" -Ln --stats | awk -v s="$VIP:80" '$2 == s { print $3 }')" == "$1" ]
}

say "1. A small LVS-NAT in network namespaces on a real IPVS kernel ($(uname -r))"
cat <<'PICTURE'
   client 10.0.1.2 --[br-front]-- 10.0.1.1 director 10.0.2.1 --[br-back]-- rs1 10.0.2.11 (httpd)
                                  VIP 10.0.1.100                        \-- rs2 10.0.2.12 (httpd)
PICTURE
nat_topology || { echo "DEMO FAILED: the topology could not be built"; exit 1; }

say "2. Our ipvsadm ($OUR_IPVSADM, a drop-in for Debian's) sets up a round-robin service on the VIP"
ipvsadm -A -t "$VIP:80" -s rr || exit 1
ipvsadm -a -t "$VIP:80" -r "$RS1:80" -m -w 1 || exit 1
ipvsadm -a -t "$VIP:80" -r "$RS2:80" -m -w 1 || exit 1
ipvsadm -Ln

say "3. Ten HTTP requests from the client to http://$VIP/"
requests 10

say "4. The kernel's counters: 10 connections, packets both ways (NAT)"
wait_until 10 service_conns_are 10
ipvsadm -Ln --stats

say "5. Weight 0 drains rs2: new connections go to rs1 only"
ipvsadm -e -t "$VIP:80" -r "$RS2:80" -m -w 0
requests 4
ipvsadm -Ln
say "Demo complete."
