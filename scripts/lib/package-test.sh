#!/usr/bin/env bash
# The Debian packages in a fresh Debian 12 root (root needed: chroot, mount):
#   1. debootstrap a minimal bookworm root from the mirror apt uses (cached as a tarball), unpack a
#      fresh copy, install Debian's ipvsadm and keepalived and man-db in it;
#   2. apt install ./lvs-rs_*.deb: Debian's ipvsadm must go (Conflicts/Replaces), keepalived stay,
#      /usr/sbin/ipvsadm must be ours and present (no file lost to the /sbin alias);
#   3. run ipvsadm -v, ipvsadm-restore --test, vrrpd -t -f on keepalived's sample (same verdict
#      as keepalived's), man -l on every page without warnings, bash -n on the completions,
#      systemd-analyze verify on the installed units (systemd is installed in the root);
#   4. apt install ./lvs-rs-keepalived_*.deb: keepalived replaced, `keepalived -v` is vrrpd;
#   5. purge both: no file of ours left.
# Usage: scripts/lib/package-test.sh [DEB_DIR]   (default: build with scripts/package)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
CACHE=${PACKAGE_TEST_CACHE:-$TARGET_DIR/package-test}
SUITE=bookworm
FAILS=0
PASSES=0
START=$(date +%s)

log() { echo "package-test: $*" >&2; }
die() { log "$*"; exit 1; }
pass() { echo "PASS $*"; PASSES=$((PASSES + 1)); }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }
check() { # check NAME COMMAND...: PASS when the command succeeds
  local name=$1; shift
  if "$@" >/dev/null; then pass "$name"; else fail "$name"; fi
}

[ "$(id -u)" = 0 ] || die "must run as root (chroot, mount)"

DEB_DIR=${1:-}
if [ -z "$DEB_DIR" ]; then
  "$ROOT/scripts/package" >/dev/null
  DEB_DIR=$TARGET_DIR/debian
fi
MAIN_DEB=$(ls "$DEB_DIR"/lvs-rs_*.deb 2>/dev/null | head -n1)
ALIAS_DEB=$(ls "$DEB_DIR"/lvs-rs-keepalived_*.deb 2>/dev/null | head -n1)
[ -n "$MAIN_DEB" ] && [ -n "$ALIAS_DEB" ] || die "no lvs-rs .debs in $DEB_DIR"

# The mirror apt on this machine uses (deb822 or one-line sources).
mirror() {
  local uri
  uri=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -m1 '/debian/\?$' || true)
  [ -n "$uri" ] || uri=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -m1 '/debian/\?$' || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

BASE=$CACHE/$SUITE-minbase.tar
if [ ! -f "$BASE" ]; then
  command -v debootstrap >/dev/null || apt-get install -y debootstrap >/dev/null
  mkdir -p "$CACHE"
  tmp=$CACHE/bootstrap.$$
  log "debootstrap $SUITE from $(mirror) (once; cached in $BASE)"
  debootstrap --variant=minbase "$SUITE" "$tmp" "$(mirror)" >"$CACHE/debootstrap.log" 2>&1 ||
    die "debootstrap failed (see $CACHE/debootstrap.log)"
  # Debian's packages we replace, man-db to read our pages, systemd to verify our units: fetched
  # once, into the cache.
  cp /etc/resolv.conf "$tmp/etc/resolv.conf"
  # No service starts inside the root (there is no init in it).
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
  chmod 755 "$tmp/usr/sbin/policy-rc.d"
  mount -t proc proc "$tmp/proc"
  chroot "$tmp" sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ipvsadm keepalived man-db systemd procps' \
    >>"$CACHE/debootstrap.log" 2>&1 || { umount "$tmp/proc"; die "installing ipvsadm, keepalived, man-db in the root failed"; }
  umount "$tmp/proc"
  tar -C "$tmp" -cf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE"
  rm -rf "$tmp"
fi

WORK=$(mktemp -d /tmp/lvs-package-test.XXXXXX)
R=$WORK/root
cleanup() {
  mountpoint -q "$R/proc" && umount "$R/proc"
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir "$R"
tar -C "$R" -xf "$BASE"
mount -t proc proc "$R/proc"
cp /etc/resolv.conf "$R/etc/resolv.conf"
cp "$MAIN_DEB" "$ALIAS_DEB" "$R/tmp/"
in_root() { (cd / && chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"); }
apt_install() { in_root sh -c "DEBIAN_FRONTEND=noninteractive apt-get install -y -q $*"; }

check "Debian's ipvsadm and keepalived installed before" \
  in_root dpkg-query -W -f='${Status}\n' ipvsadm keepalived
# What Debian's tools answer in this root (on a host without IPVS, ipvsadm says so): ours must
# answer the same after the switch.
reference() { # reference NAME COMMAND...: stdout, stderr and status into $WORK/NAME.*
  local name=$1; shift
  set +e
  in_root "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  echo $? >"$WORK/$name.status"
  set -e
}
reference debian-v ipvsadm -v
reference debian-h ipvsadm -h
# keepalived's own verdict on its sample, to compare with ours after the switch.
SAMPLE=/etc/keepalived/keepalived.conf.sample
set +e
in_root keepalived -t -f "$SAMPLE" >/dev/null 2>&1
KEEPALIVED_T=$?
set -e

log "apt install ./$(basename "$MAIN_DEB")"
apt_install "/tmp/$(basename "$MAIN_DEB")" >"$WORK/apt-main.log" 2>&1 || { cat "$WORK/apt-main.log"; die "apt install failed"; }
check "Debian's ipvsadm removed (Conflicts)" \
  sh -c "! chroot '$R' dpkg-query -W -f='\${Status}' ipvsadm 2>/dev/null | grep -q '^install ok installed'"
check "Debian's /etc/default/ipvsadm and /etc/ipvsadm.rules kept for ipvsadm.service" \
  [ -f "$R/etc/default/ipvsadm" -a -f "$R/etc/ipvsadm.rules" ]
check "keepalived left installed" \
  sh -c "chroot '$R' dpkg-query -W -f='\${Status}' keepalived | grep -q '^install ok installed'"
for bin in ipvsadm ipvsadm-save ipvsadm-restore vrrpd; do
  check "/usr/sbin/$bin present and ours" \
    sh -c "[ -x '$R/usr/sbin/$bin' ] && chroot '$R' dpkg -S /usr/sbin/$bin | grep -q '^lvs-rs:'"
done
reference ours-v ipvsadm -v
reference ours-h ipvsadm -h
for what in v h; do
  first=$(cat "$WORK/ours-$what.out" "$WORK/ours-$what.err" | head -n1)
  check "ipvsadm -$what: stdout, stderr, status as Debian's (status $(cat "$WORK/ours-$what.status"): $first)" \
    sh -c "cmp -s '$WORK/debian-$what.out' '$WORK/ours-$what.out' && cmp -s '$WORK/debian-$what.err' '$WORK/ours-$what.err' && cmp -s '$WORK/debian-$what.status' '$WORK/ours-$what.status'"
done
if [ -e /proc/net/ip_vs ]; then
  check "ipvsadm -v prints ipvsadm 1.31's line (IPVS present)" \
    grep -qx 'ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)' "$WORK/ours-v.out"
fi
printf '%s\n' '-A -t 10.0.0.1:80 -s rr' '-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1' '-a -t 10.0.0.2:80 -r 10.0.1.1:80 -m' >"$R/tmp/rules"
check "ipvsadm-restore --test names the bad line" \
  sh -c "chroot '$R' sh -c 'ipvsadm-restore --test < /tmp/rules' 2>&1 | grep -q 'line 3: Service not defined'"
set +e
in_root vrrpd -t -f "$SAMPLE" >"$WORK/vrrpd-t.log" 2>&1
VRRPD_T=$?
set -e
check "vrrpd -t -f $SAMPLE: status $VRRPD_T, keepalived's $KEEPALIVED_T" [ "$VRRPD_T" = "$KEEPALIVED_T" ]
check "vrrpd -v" sh -c "chroot '$R' vrrpd -v 2>&1 | grep -q '^vrrpd v'"
for page in ipvsadm ipvsadm-save ipvsadm-restore vrrpd; do
  f=/usr/share/man/man8/$page.8.gz
  check "man -l $f renders without warnings" \
    sh -c "out=\$(chroot '$R' env MANWIDTH=80 man --warnings -l $f 2>&1 >/dev/null) && [ -z \"\$out\" ] && chroot '$R' env MANWIDTH=80 man -l $f | grep -q ."
done
check "man ipvsadm finds ours" sh -c "chroot '$R' env MANWIDTH=80 man ipvsadm 2>/dev/null | grep -q 'json'"
for f in ipvsadm ipvsadm-save ipvsadm-restore vrrpd; do
  check "bash -n completions/$f" bash -n "$R/usr/share/bash-completion/completions/$f"
done
# zsh and fish are not in the root; the host's check the installed files when it has them.
if command -v zsh >/dev/null; then
  for f in _ipvsadm _ipvsadm-save _ipvsadm-restore _vrrpd; do
    check "zsh -n $f" zsh -n "$R/usr/share/zsh/vendor-completions/$f"
  done
fi
if command -v fish >/dev/null; then
  for f in "$R"/usr/share/fish/vendor_completions.d/*.fish; do
    check "fish -n $(basename "$f")" fish -n "$f"
  done
  check "fish completes ipvsadm --sched" \
    sh -c "fish -c 'source $R/usr/share/fish/vendor_completions.d/ipvsadm.fish; complete -C \"ipvsadm --sched\"' | cut -f1 | tr '\n' ' ' | grep -qx -- '--scheduler --sched-flags '"
fi
check "bash completes ipvsadm -s" \
  sh -c "chroot '$R' bash -c 'source /usr/share/bash-completion/completions/ipvsadm; COMP_WORDS=(ipvsadm -A -t 1.2.3.4:80 -s w); COMP_CWORD=5; _lvs_rs_ipvsadm; echo \${COMPREPLY[*]}' | grep -qx 'wrr wlc'"
for f in /usr/share/zsh/vendor-completions/_ipvsadm /usr/share/fish/vendor_completions.d/vrrpd.fish \
  /usr/lib/systemd/system/ipvsadm.service /usr/lib/systemd/system/vrrpd.service /usr/lib/lvs-rs/ipvsadm-service \
  /usr/share/doc/lvs-rs/ipvsadm-json.schema.json; do
  check "$f installed" [ -s "$R$f" ]
done
# Inside the root: systemd's own units are there, and `man vrrpd` (Documentation=) finds our pages.
check "systemd-analyze verify on the installed units" \
  sh -c "out=\$(chroot '$R' systemd-analyze verify /usr/lib/systemd/system/ipvsadm.service /usr/lib/systemd/system/vrrpd.service 2>&1); [ -z \"\$out\" ] || { echo \"\$out\" >&2; false; }"

log "apt install ./$(basename "$ALIAS_DEB")"
apt_install "/tmp/$(basename "$ALIAS_DEB")" >"$WORK/apt-alias.log" 2>&1 || { cat "$WORK/apt-alias.log"; die "apt install of the alias failed"; }
check "keepalived removed by lvs-rs-keepalived" \
  sh -c "! chroot '$R' dpkg-query -W -f='\${Status}' keepalived 2>/dev/null | grep -q '^install ok installed'"
check "/usr/sbin/keepalived -> vrrpd" [ "$(readlink "$R/usr/sbin/keepalived")" = vrrpd ]
check "keepalived -v is vrrpd" sh -c "chroot '$R' keepalived -v 2>&1 | grep -q '^keepalived v.*keepalived 2.2.7 configuration language'"

log "purge"
in_root sh -c 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -q lvs-rs-keepalived lvs-rs' >"$WORK/apt-purge.log" 2>&1 ||
  { cat "$WORK/apt-purge.log"; die "purge failed"; }
check "purge leaves none of our files" \
  sh -c "! ls '$R'/usr/sbin/vrrpd '$R'/usr/sbin/keepalived '$R'/usr/lib/lvs-rs '$R'/usr/share/man/man8/vrrpd.8.gz 2>/dev/null | grep -q ."

log "$(($(date +%s) - START)) s"
# The closing line scripts/test and scripts/vm-test use.
echo "$PASSES passed, $FAILS failed"
[ "$FAILS" = 0 ]
