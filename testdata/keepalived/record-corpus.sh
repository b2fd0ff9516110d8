#!/bin/bash
# record-corpus.sh - records keepalived 2.2.7's complete `-t` output on every corpus
# configuration, in a bare network namespace and with the interfaces of verdicts-2.2.7.tsv
# created (as check-verdicts.sh does). Needs root and keepalived 2.2.7. Writes
# corpus/keepalived-output.txt: "=== FILE bare|ifaces", "rc N", then the messages, with the
# configs directory's absolute path written as @CONFIGS@ so the record holds on any checkout.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
KEEPALIVED=${KEEPALIVED:-/usr/sbin/keepalived}
"$KEEPALIVED" --version 2>&1 | grep -q 'v2\.2\.7' || { echo "need keepalived 2.2.7 ($KEEPALIVED)" >&2; exit 2; }
TSV=$HERE/corpus/verdicts-2.2.7.tsv
out=$HERE/corpus/keepalived-output.txt.new
: > "$out"
ns=kacorpus$$
run() { # label interfaces file
  ip netns add $ns
  ip netns exec $ns ip link set lo up
  for i in $2; do ip netns exec $ns ip link add "$i" type bridge && ip netns exec $ns ip link set "$i" up; done
  local msgs rc
  msgs=$(cd "$HERE/corpus/configs" && ip netns exec $ns timeout 30 "$KEEPALIVED" -i vm -t -f "$3" 2>&1) && rc=0 || rc=$?
  ip netns del $ns
  { printf '=== %s %s\nrc %s\n' "$3" "$1" "$rc"; if [ -n "$msgs" ]; then printf '%s\n' "${msgs//$HERE\/corpus\/configs/@CONFIGS@}"; fi; } >> "$out"
}
for f in "$HERE"/corpus/configs/*.conf; do
  b=$(basename "$f")
  ifaces=$(awk -F'\t' -v b="$b" '$1==b {print $6}' "$TSV")
  run bare "" "$b"
  run ifaces "$ifaces" "$b"
done
mv "$out" "$HERE/corpus/keepalived-output.txt"
grep -c '^=== ' "$HERE/corpus/keepalived-output.txt"
