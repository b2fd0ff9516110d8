# The reference ipvsadm against the VM's kernel: the loop itself works (module, add, list, delete).
. "$SUITES/lib.sh"

check load-ip_vs modprobe ip_vs
check version-line grep -q 'IP Virtual Server version 1\.2\.1' /proc/net/ip_vs
check add-service "$REF_IPVSADM" -A -t 10.0.0.1:80 -s rr
check add-destination "$REF_IPVSADM" -a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 3
check_eq list-rules "-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 3" "$("$REF_IPVSADM" -Sn)"
check_eq list-table "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.0.0.1:80 rr
  -> 10.0.0.2:80                  Masq    3      0          0         " "$("$REF_IPVSADM" -Ln)"
check delete-service "$REF_IPVSADM" -D -t 10.0.0.1:80
check_eq table-empty "" "$("$REF_IPVSADM" -Sn)"
check_fails delete-missing "$REF_IPVSADM" -D -t 10.0.0.1:80
