#!/bin/bash
# regenerate.sh - records keepalived 2.2.7's verdicts on the probe cases (needs root and
# keepalived 2.2.7; the Rust tests only read the result, so they run without either).
#
# For every case of cases.txt and generated-cases.txt, writes the configuration to probe.conf
# in a scratch directory and runs `keepalived -i vm -t -f probe.conf` there, in a fresh network
# namespace holding lo, eth0 and eth1 (bridges, up). Writes expected.txt: "=== NAME", "rc N",
# then keepalived's messages.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
KEEPALIVED=${KEEPALIVED:-/usr/sbin/keepalived}
"$KEEPALIVED" --version 2>&1 | grep -q 'v2\.2\.7' || { echo "need keepalived 2.2.7 ($KEEPALIVED)" >&2; exit 2; }
"$HERE/generate-cases.sh" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ns=kaprobe$$
ip netns add $ns
trap 'ip netns del $ns 2>/dev/null; rm -rf "$work"' EXIT
ip netns exec $ns ip link set lo up
for i in eth0 eth1; do
  ip netns exec $ns ip link add "$i" type bridge
  ip netns exec $ns ip link set "$i" up
done
out="$HERE/expected.txt.new"
: > "$out"
run_case() { # name, config text
  printf '%s' "$2" > "$work/probe.conf"
  local msgs rc
  msgs=$(cd "$work" && ip netns exec $ns timeout 20 "$KEEPALIVED" -i vm -t -f probe.conf 2>&1) && rc=0 || rc=$?
  { printf "=== %s\nrc %s\n" "$1" "$rc"; if [ -n "$msgs" ]; then printf "%s\n" "$msgs"; fi; } >> "$out"
}
for cases in "$HERE/cases.txt" "$HERE/generated-cases.txt"; do
  [ -f "$cases" ] || continue
  name= text=
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ $line == "=== "* ]]; then
      [ -n "$name" ] && run_case "$name" "$text"
      name=${line#=== } text=
    else
      text+="$line"$'\n'
    fi
  done < "$cases"
  [ -n "$name" ] && run_case "$name" "$text"
done
mv "$out" "$HERE/expected.txt"
grep -c '^=== ' "$HERE/expected.txt"
