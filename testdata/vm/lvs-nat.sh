# LVS-NAT with real packets: a client, a director and two real servers on bridges; rr splits evenly.
. "$SUITES/lib.sh"
IPVSADM=${IPVSADM:-$REF_IPVSADM}

if ! nat_topology; then
  fail topology "the namespaces could not be built"
  exit 1
fi
pass topology
check_eq direct-rs1 rs1 "$(fetch director "http://$RS1/")"
check_eq direct-rs2 rs2 "$(fetch director "http://$RS2/")"

check add-service in_ns director "$IPVSADM" -A -t "$VIP:80" -s rr
check add-rs1 in_ns director "$IPVSADM" -a -t "$VIP:80" -r "$RS1:80" -m
check add-rs2 in_ns director "$IPVSADM" -a -t "$VIP:80" -r "$RS2:80" -m
check_eq rr-splits-5-5 "rs1=5 rs2=5" "$(count_backends client "http://$VIP/" 10)"

# Weight 0 takes a real server out of rotation for new connections.
check weight-0 in_ns director "$IPVSADM" -e -t "$VIP:80" -r "$RS2:80" -m -w 0
check_eq weight-0-drains "rs1=4" "$(count_backends client "http://$VIP/" 4)"
