# Prints generated differential cases: every command with every option (ipvsadm's legality table
# and each option's value checks), and every option value in range, at its bounds and past them.

# A usable value for each option.
declare -A VALUE=(
  [-t]="-t 10.0.0.1:80" [-u]="-u 10.0.0.1:53" [--sctp-service]="--sctp-service 10.0.0.1:38412" [-f]="-f 7"
  [-s]="-s rr" [-p]="-p 60" [-M]="-M 255.255.255.0" [-r]="-r 10.0.0.2" [-m]="-m" [-i]="-i" [-g]="-g"
  [-w]="-w 2" [-x]="-x 10" [-y]="-y 5" [-n]="-n" [-c]="-c" [--mcast-interface]="--mcast-interface lo"
  [--syncid]="--syncid 3" [--timeout]="--timeout" [--daemon]="--daemon" [--stats]="--stats" [--rate]="--rate"
  [--thresholds]="--thresholds" [--persistent-conn]="--persistent-conn" [--nosort]="--nosort" [--sort]="--sort"
  [-X]="-X" [-6]="-6" [-o]="-o" [--pe]="--pe sip" [-b]="-b flag-1" [--mcast-group]="--mcast-group 239.0.0.1"
  [--mcast-port]="--mcast-port 9000" [--mcast-ttl]="--mcast-ttl 2" [--sync-maxlen]="--sync-maxlen 1000"
  [--tun-info]="--tun-info" [--tun-type]="--tun-type gre" [--tun-port]="--tun-port 6080"
  [--tun-nocsum]="--tun-nocsum" [--tun-csum]="--tun-csum" [--tun-remcsum]="--tun-remcsum"
)
OPTIONS=(-t -u --sctp-service -f -s -p -M -r -m -i -g -w -x -y -n -c --mcast-interface --syncid --timeout --daemon
  --stats --rate --thresholds --persistent-conn --nosort --sort -X -6 -o --pe -b --mcast-group --mcast-port
  --mcast-ttl --sync-maxlen --tun-info --tun-type --tun-port --tun-nocsum --tun-csum --tun-remcsum)

# Each command with what it needs to be valid.
declare -A COMMAND=(
  [A]="-A -t 10.0.0.1:80" [E]="-E -t 10.0.0.1:80" [D]="-D -t 10.0.0.1:80" [C]="-C" [L]="-L" [a]="-a -t 10.0.0.1:80 -r 10.0.0.2"
  [e]="-e -t 10.0.0.1:80 -r 10.0.0.2" [d]="-d -t 10.0.0.1:80 -r 10.0.0.2" [set]="--set 10 20 30"
  [start]="--start-daemon master" [stop]="--stop-daemon master" [S]="-S" [Z]="-Z"
)
SETUP="printf -- '-A -t 10.0.0.1:80 -s wlc\\n-a -t 10.0.0.1:80 -r 10.0.0.2 -g\\n' | ipvsadm -R"
# The table after the command, unless ipvsadm refused the command line (status 2) and so did
# nothing; a refusal by only one of the tools shows as a difference all the same.
SAVE_UNLESS_REFUSED='; [ $? -eq 2 ] || ipvsadm -Sn' 

for command in "${!COMMAND[@]}"; do
  for option in "${OPTIONS[@]}"; do
    echo "case matrix-$command-${option#-}"
    echo "$SETUP"
    echo "ipvsadm ${COMMAND[$command]} ${VALUE[$option]}$SAVE_UNLESS_REFUSED"
  done
done

# Option values: in range, at the bounds, past them, malformed.
values() {
  local prefix=$1 option=$2
  shift 2
  local value
  for value in "$@"; do
    echo "case value-${option#-}-$(printf '%s' "$value" | tr -c 'A-Za-z0-9.' '_')"
    echo "$SETUP"
    echo "ipvsadm $prefix $option '$value'$SAVE_UNLESS_REFUSED"
  done
}
values "-A -t 10.0.0.9:80" -p 1 2678400 2678401 0 -1 ' 5' +5 5x 0x10 ''
values "-A -t 10.0.0.9:80" -s rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos RR nosuch '' averyveryverylongschedulername
values "-A -t 10.0.0.9:80 -p" -M 255.255.255.0 255.255.0.0 24 0.0.0.0 255.255.255.255 garbage 10.1
values "-A -t 10.0.0.9:80" --pe sip nosuch ''
values "-A -t 10.0.0.9:80" -b flag-1 flag-2 flag-3 flag-1,flag-3 sh-port mh-fallback nope '' flag-1,,flag-2
values "-A -s sh -t 10.0.0.9:80" -b sh-port sh-fallback sh-fallback,sh-port mh-port flag-2
values "-A -s mh -t 10.0.0.9:80" -b mh-port mh-fallback sh-port
values "-A" -t 10.0.0.9:80 10.0.0.9 10.0.0.9:0 10.0.0.9:65535 10.0.0.9:65536 10.0.0.9:http 10.0.0.9:nosuch web:80 \
  web.example.test:https nosuchhost:80 8080 '[2001:db8::1]:80' '[2001:db8::1]' 2001:db8::1:80 '[10.0.0.9]:80' \
  10.1:80 0x0a000009:80 012.0.0.9:80 '[2001:db8::1]80' fe80::1%lo ::ffff:10.0.0.9 '10.0.0.9:+80' '10.0.0.9: 80' ''
values "-A" -u 10.0.0.9:53 10.0.0.9:domain 10.0.0.9:http
values "-A" --sctp-service 10.0.0.9:38412 10.0.0.9:amqp 10.0.0.9:http
values "-A" -f 1 4294967295 4294967296 2147483648 0 -1 0x10 10abc ''
values "-a -t 10.0.0.1:80 -m" -r 10.0.0.3 10.0.0.3:8080 real1.example.test:http 224.0.0.1 0.0.0.0 255.255.255.255 \
  '[2001:db8::5]:80' nosuchhost ''
values "-a -t 10.0.0.1:80 -r 10.0.0.3" -w 0 1 65535 65536 2147483647 2147483648 -1 1.5 ''
values "-a -t 10.0.0.1:80 -r 10.0.0.3" -x 0 100 2147483647 2147483648 -1
values "-a -t 10.0.0.1:80 -r 10.0.0.3" -y 0 100 2147483647 -1
values "-a -t 10.0.0.1:80 -r 10.0.0.3 -i" --tun-type ipip gue gre nosuch
values "-a -t 10.0.0.1:80 -r 10.0.0.3 -i --tun-type gue" --tun-port 1 65535 0 65536 x
values "--start-daemon master --mcast-interface lo" --syncid 0 255 256 -1
values "--start-daemon master --mcast-interface lo" --mcast-group 239.0.0.1 224.0.0.81 10.0.0.1 ff02::81 2001:db8::1 x
values "--start-daemon master --mcast-interface lo" --mcast-port 1 65535 0 65536
values "--start-daemon master --mcast-interface lo" --mcast-ttl 1 255 0 256
values "--start-daemon master --mcast-interface lo" --sync-maxlen 1 65507 65508 0
values "--start-daemon master" --mcast-interface lo nosuchif averyveryverylonginterfacename
values "" --start-daemon master backup primary ''
values "" --stop-daemon master backup primary
