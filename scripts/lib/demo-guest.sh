# The live demo, inside the VM: an LVS-NAT director balancing real HTTP traffic over two real servers.
. "$SUITES/lib.sh"

# Our ipvsadm drives the kernel; the reference one stands in only while ours cannot.
if "$OUR_IPVSADM" -v >/dev/null 2>&1; then
  IPVSADM=$OUR_IPVSADM
else
  IPVSADM=$REF_IPVSADM
  echo "(our ipvsadm is not ready in this build: the demo uses Debian's $REF_IPVSADM)"
fi

say() { printf '\n== %s\n' "$*"; }
run() {
  printf 'director# %s\n' "${*/#$IPVSADM/ipvsadm}"
  in_ns director "$@"
}

say "1. A small LVS-NAT in network namespaces on a real IPVS kernel ($(uname -r))"
cat <<'PICTURE'
   client 10.0.1.2 --[br-front]-- 10.0.1.1 director 10.0.2.1 --[br-back]-- rs1 10.0.2.11 (httpd)
                                  VIP 10.0.1.100                        \-- rs2 10.0.2.12 (httpd)
PICTURE
nat_topology || { echo "DEMO FAILED: the topology could not be built"; exit 1; }

say "2. A virtual service on the VIP, round robin, both real servers masqueraded"
run "$IPVSADM" -A -t "$VIP:80" -s rr || exit 1
run "$IPVSADM" -a -t "$VIP:80" -r "$RS1:80" -m -w 1 || exit 1
run "$IPVSADM" -a -t "$VIP:80" -r "$RS2:80" -m -w 1 || exit 1
run "$IPVSADM" -Ln

say "3. Ten HTTP requests from the client to http://$VIP/"
for i in $(seq 10); do
  printf 'request %2d -> %s\n' "$i" "$(fetch client "http://$VIP/" || echo '(no answer)')"
done

say "4. The kernel's counters (folded every 2 s by the IPVS estimator)"
wait_until 10 sh -c "ip netns exec director $IPVSADM -Ln --stats | grep -q '^TCP .* 10 '"
run "$IPVSADM" -Ln --stats

say "5. Weight 0 drains rs2: new connections go to rs1 only"
run "$IPVSADM" -e -t "$VIP:80" -r "$RS2:80" -m -w 0
for i in $(seq 4); do
  printf 'request %2d -> %s\n' "$i" "$(fetch client "http://$VIP/" || echo '(no answer)')"
done
run "$IPVSADM" -Ln
say "Demo complete."
