# The checker process's notify FIFO lines and SMTP alerts, vrrpd -C against keepalived 2.2.7 -C on the
# same configuration and the same real servers (the NAT topology of lib.sh):
#
# - a mail server in the client's namespace (busybox nc running a shell script per connection) records
#   each conversation in a file of its own; `notify_fifo` and `lvs_notify_fifo` are read by cat;
# - virtual servers with HTTP_GET (quorum 2, omega), TCP_CHECK, MISC_CHECK (a script testing a flag
#   file), DNS_CHECK and SMTP_CHECK to closed ports, an alpha UDP_CHECK to a closed port, and an alpha PING_CHECK to
#   an address nobody has behind a sorry server (quorum down at start);
# - stages: started, rs1 failed (its httpd killed, the flag file written), rs1 back, reloaded (a
#   virtual server and a real server dropped, a virtual server added), stopped.
#
# At each stage the FIFO lines written since the last one (sorted: servers are checked in a random
# order) and the mails received (the Date: header blanked, sorted) must be those of keepalived. At the
# stop keepalived opens its connections and exits before a word is said; ours sends the omega service's
# "Shutting down" mails, checked on their own.
# vm-timeout: 900
. "$SUITES/lib.sh"
WORK=/tmp/lvs-alerts
mkdir -p "$WORK"

if ! nat_topology; then
  fail topology "the namespaces could not be built"
  exit 1
fi
pass topology

# The mail server: every line the client sends goes to a file per connection, the replies are those a
# mail server gives to keepalived's conversation.
cat >"$WORK/sink.sh" <<'EOF'
#!/bin/sh
printf '220 sink ESMTP\r\n'
cr=$(printf '\r')
out=$(mktemp /tmp/lvs-alerts/mail/conversation.XXXXXX)
data=0
while IFS= read -r line; do
  line=${line%"$cr"}
  printf '%s\n' "$line" >>"$out"
  if [ "$data" = 1 ]; then
    if [ "$line" = . ]; then
      data=0
      printf '250 queued\r\n'
    fi
    continue
  fi
  case $line in
    HELO* | MAIL* | RCPT*) printf '250 ok\r\n' ;;
    DATA) data=1; printf '354 go ahead\r\n' ;;
    QUIT) printf '221 bye\r\n'; exit 0 ;;
    *) printf '500 what\r\n' ;;
  esac
done
EOF
chmod 755 "$WORK/sink.sh"
in_ns client busybox nc -ll -p 25 -e "$WORK/sink.sh" &
SINK_PID=$!

# alerts_conf [reloaded]: the configuration; after the reload 10.0.1.101 and rs2 of the HTTP service
# are dropped and 10.0.1.106 is new.
alerts_conf() {
  cat <<EOF
global_defs {
  notification_email {
    ops@example.com
    noc@example.com
  }
  notification_email_from lvs@example.com
  smtp_server 10.0.1.2 25
  smtp_helo_name director.example
  smtp_connect_timeout 30
  router_id LVS_ALERTS
  smtp_alert
  notify_fifo $WORK/fifo
  lvs_notify_fifo $WORK/lvs-fifo
}
EOF
  cat <<EOF
virtual_server $VIP 80 {
  protocol TCP
  lb_kind NAT
  delay_loop 2
  quorum 2
  omega
  real_server $RS1 80 {
    HTTP_GET {
      url {
        path /index.html
      }
      connect_timeout 3
      retry 0
    }
  }
EOF
  [ "$1" = reloaded ] || cat <<EOF
  real_server $RS2 80 {
    HTTP_GET {
      url {
        path /index.html
      }
      connect_timeout 3
      retry 0
    }
  }
EOF
  cat <<EOF
}
EOF
  [ "$1" = reloaded ] || cat <<EOF
virtual_server 10.0.1.101 80 {
  protocol TCP
  lb_kind NAT
  delay_loop 2
  real_server $RS1 80 {
    TCP_CHECK {
      connect_timeout 3
      retry 0
    }
  }
  real_server $RS2 80 {
    smtp_alert no
    TCP_CHECK {
      connect_timeout 3
      retry 0
    }
  }
}
EOF
  cat <<EOF
virtual_server 10.0.1.102 80 {
  protocol TCP
  lb_kind NAT
  delay_loop 2
  real_server $RS1 80 {
    MISC_CHECK {
      misc_path "/bin/sh -c 'test ! -e $WORK/rs1-down'"
      misc_timeout 10
      retry 0
    }
  }
}
EOF
  cat <<EOF
virtual_server 10.0.1.103 53 {
  protocol UDP
  lb_kind NAT
  delay_loop 2
  real_server $RS1 53 {
    DNS_CHECK {
      connect_timeout 3
      retry 0
    }
  }
  real_server $RS2 53 {
    UDP_CHECK {
      alpha
      connect_timeout 3
      retry 0
    }
  }
}
EOF
  cat <<EOF
virtual_server 10.0.1.105 25 {
  protocol TCP
  lb_kind NAT
  delay_loop 2
  real_server $RS1 25 {
    SMTP_CHECK {
      connect_timeout 3
      retry 0
    }
  }
}
EOF
  cat <<EOF
virtual_server 10.0.1.104 80 {
  protocol TCP
  lb_kind NAT
  delay_loop 2
  sorry_server $RS2 80
  real_server 10.0.2.99 80 {
    PING_CHECK {
      alpha
      connect_timeout 3
      retry 0
    }
  }
}
EOF
  [ "$1" = reloaded ] || return 0
  cat <<EOF
virtual_server 10.0.1.106 80 {
  protocol TCP
  lb_kind NAT
  delay_loop 2
  real_server $RS2 80 {
    TCP_CHECK {
      connect_timeout 3
      retry 0
    }
  }
}
EOF
}
alerts_conf >"$WORK/alerts.conf"
alerts_conf reloaded >"$WORK/alerts-reloaded.conf"

# start_daemon WHICH: keepalived or ours, checkers only, in the foreground in the director's namespace.
start_daemon() {
  if [ "$1" = keepalived ]; then
    ip netns exec director /usr/sbin/keepalived -C -n -l -D -f "$WORK/alerts.conf" -p "$WORK/ka.pid" \
      -c "$WORK/ka-c.pid" >"$WORK/$1.log" 2>&1 &
  else
    ip netns exec director "$LVS_BIN/vrrpd" -C -n -l -D -f "$WORK/alerts.conf" -p "$WORK/our.pid" \
      -c "$WORK/our-c.pid" >"$WORK/$1.log" 2>&1 &
  fi
  DAEMON_PID=$!
}

# quiet: wait until neither the FIFO texts nor the mails change for 3 s (at most 40 s).
quiet() {
  local previous="" current same=0 i=0
  while [ $same -lt 3 ] && [ $i -lt 40 ]; do
    sleep 1
    current=$(cat "$WORK/fifo.txt" "$WORK/lvs-fifo.txt" "$WORK"/mail/* 2>/dev/null | md5sum)
    if [ "$current" = "$previous" ]; then same=$((same + 1)); else same=0; fi
    previous=$current
    i=$((i + 1))
  done
}

# Lines of FILE after the first N, sorted.
lines_after() { tail -n +$(($2 + 1)) "$1" | sort; }

# mails DIR: every conversation in DIR with a word said, the Date: header blanked, one line each, sorted.
mails() {
  local f
  for f in "$1"/conversation.*; do
    [ -s "$f" ] || continue
    sed 's/^Date: .*/Date: (now)/' "$f" | tr '\n' '|'
    echo
  done | sort
}

# stage NAME WHICH: records the FIFO lines and mails since the last stage.
stage() {
  quiet
  local fifo_now lvs_now
  fifo_now=$(wc -l <"$WORK/fifo.txt")
  lvs_now=$(wc -l <"$WORK/lvs-fifo.txt")
  lines_after "$WORK/fifo.txt" "$fifo_seen" >"$WORK/$2-$1.fifo"
  lines_after "$WORK/lvs-fifo.txt" "$lvs_seen" >"$WORK/$2-$1.lvs-fifo"
  fifo_seen=$fifo_now
  lvs_seen=$lvs_now
  # The conversations are over (quiet): this stage's go to a folder of their own.
  mkdir -p "$WORK/$2-$1.d"
  mv "$WORK"/mail/conversation.* "$WORK/$2-$1.d/" 2>/dev/null
  mails "$WORK/$2-$1.d" >"$WORK/$2-$1.mails"
}

rs1_httpd() {
  local pid
  for pid in $(ip netns pids rs1); do
    grep -q httpd "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
  done
}

for which in keepalived ours; do
  rm -rf "$WORK/mail" "$WORK/rs1-down" "$WORK/fifo" "$WORK/lvs-fifo" "$WORK/$which"-*.d
  mkdir -p "$WORK/mail"
  mkfifo "$WORK/fifo" "$WORK/lvs-fifo"
  # Read-write, so that the readers see no end when keepalived closes and opens its FIFOs on reload.
  cat <>"$WORK/fifo" >"$WORK/fifo.txt" &
  FIFO_READER=$!
  cat <>"$WORK/lvs-fifo" >"$WORK/lvs-fifo.txt" &
  LVS_READER=$!
  fifo_seen=0
  lvs_seen=0
  start_daemon "$which"
  # The alpha PING_CHECK's first verdict comes up to 6 s after the start (1 s, a share of warmup, the
  # 3 s timeout), possibly after 3 quiet seconds: the stage waits for its line.
  wait_until 20 grep -q '10.0.2.99' "$WORK/fifo.txt"
  stage started "$which"
  if ! ls "$WORK/$which-started.d"/conversation.* >/dev/null 2>&1; then
    fail "$which/mail-server-reached" "no conversation recorded" "$(tail -n 40 "$WORK/$which.log")" \
      "$(ls -la "$WORK/mail")" "$(in_ns client busybox netstat -ltn 2>&1)"
  fi
  kill "$(rs1_httpd)"
  touch "$WORK/rs1-down"
  stage rs1-down "$which"
  start_httpd rs1 "$RS1" rs1
  rm -f "$WORK/rs1-down"
  stage rs1-back "$which"
  cp "$WORK/alerts-reloaded.conf" "$WORK/alerts.conf"
  kill -HUP "$DAEMON_PID"
  stage reloaded "$which"
  stop_daemon
  alerts_conf >"$WORK/alerts.conf"
  stage stopped "$which"
  kill "$FIFO_READER" "$LVS_READER" 2>/dev/null
  wait "$FIFO_READER" "$LVS_READER" 2>/dev/null
  in_ns director /usr/sbin/ipvsadm -C
done

for stage in started rs1-down rs1-back reloaded stopped; do
  check_eq "fifo-$stage" "$(cat "$WORK/keepalived-$stage.fifo")" "$(cat "$WORK/ours-$stage.fifo")"
  check_eq "lvs-fifo-$stage" "$(cat "$WORK/keepalived-$stage.lvs-fifo")" "$(cat "$WORK/ours-$stage.lvs-fifo")"
done
for stage in started rs1-down rs1-back reloaded; do
  check_eq "mails-$stage" "$(cat "$WORK/keepalived-$stage.mails")" "$(cat "$WORK/ours-$stage.mails")"
done
# What the stages must hold, so that an empty comparison cannot pass.
check rs-down-line grep -q '^RS \[10.0.2.11\]:tcp:80 \[10.0.1.100\]:tcp:80 DOWN$' "$WORK/ours-rs1-down.fifo"
check vs-up-line grep -q '^VS \[10.0.1.100\]:tcp:80 UP$' "$WORK/ours-rs1-back.fifo"
check quorum-lost-mail grep -q 'Subject: \[LVS_ALERTS\] Virtualserver \[10.0.1.100\]:tcp:80 - DOWN|.*=> Lost quorum 2+0=2 <= 1 <=' "$WORK/ours-rs1-down.mails"
check tcp-failed-mail grep -q '=> TCP CHECK failed on service <=' "$WORK/ours-rs1-down.mails"
check smtp-check-reason grep -q '=> CHECK failed on service : Could not connect to server \[10.0.2.11\]:25 <=' "$WORK/ours-started.mails"
check reload-removing-mail grep -q 'Subject: \[LVS_ALERTS\] Realserver \[10.0.2.12\]:tcp:80 of virtual server \[10.0.1.100\]:tcp:80 - DOWN|.*=> Removing <=' "$WORK/ours-reloaded.mails"
check reload-old-quorum-lost grep -q 'Subject: \[LVS_ALERTS\] Virtualserver \[10.0.1.100\]:tcp:80 - DOWN|.*=> Lost quorum 2+0=2 <= 1 <=' "$WORK/ours-reloaded.mails"
check reload-new-service-line grep -q '^VS \[10.0.1.106\]:tcp:80 UP$' "$WORK/ours-reloaded.fifo"
check misc-first-mail grep -q '=> MISC CHECK succeeded on service <=' "$WORK/ours-started.mails"
# The stop: keepalived says nothing; ours sends the omega service's mails.
check_eq mails-stopped-keepalived "" "$(cat "$WORK/keepalived-stopped.mails")"
check_eq mails-stopped-ours-subjects \
  "$(printf '%s\n' 'Subject: [LVS_ALERTS] Realserver [10.0.2.11]:tcp:80 of virtual server [10.0.1.100]:tcp:80 - DOWN' \
    'Subject: [LVS_ALERTS] Virtualserver [10.0.1.100]:tcp:80 - DOWN')" \
  "$(tr '|' '\n' <"$WORK/ours-stopped.mails" | grep '^Subject:' | sort)"
kill "$SINK_PID" 2>/dev/null
