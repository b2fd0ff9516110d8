#!/bin/bash
# generate-cases.sh - writes generated-cases.txt from contexts.txt and keywords.txt.
#
# Each keyword of keywords.txt is put into its context five ways (alone, with the word
# "bogus", with -1, with a number too large for 32 bits, with the valid value given), except in the list contexts (vip, static_*, vsg) where
# the whole line is one item. The output is a list of cases: "=== NAME" followed by the
# configuration text. regenerate.sh runs keepalived on them; the Rust tests run vrrpd.
set -eu
cd "$(dirname "$0")"
awk '
FNR == NR {
  if ($0 ~ /^#/) next
  if ($0 ~ /^=== /) { ctx = $2; order[++n] = ctx; next }
  body[ctx] = body[ctx] $0 "\n"
  next
}
/^#/ || NF == 0 { next }
{
  ctx = $1; kw = $2
  value = ""
  for (i = 3; i <= NF; i++) value = value (i > 3 ? " " : "") $i
  if (!(ctx in body)) { print "unknown context " ctx > "/dev/stderr"; exit 1 }
  if (ctx ~ /^(vip|static_ip|static_route|static_rule|vsg)$/) {
    line = kw (value != "" ? " " value : "")
    emit(ctx "/" line, ctx, line)
    next
  }
  emit(ctx "/" kw, ctx, kw)
  emit(ctx "/" kw "/bogus", ctx, kw " bogus")
  emit(ctx "/" kw "/-1", ctx, kw " -1")
  emit(ctx "/" kw "/99999999999", ctx, kw " 99999999999")
  if (value != "") emit(ctx "/" kw "/" value, ctx, kw " " value)
}
function emit(name, ctx, line,    text) {
  text = body[ctx]
  gsub(/@@/, line, text)
  printf "=== %s\n%s", name, text
}
' contexts.txt keywords.txt > generated-cases.txt
grep -c '^=== ' generated-cases.txt
