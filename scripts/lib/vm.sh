# shellcheck shell=bash
# Build and boot the real-kernel test VM.
#
# The host kernel has no IPVS, so everything that touches the kernel runs in a qemu guest (TCG) booting
# Debian's cloud kernel from an initramfs. The initramfs is two gzip'd cpio archives concatenated:
#   base    - kernel modules, busybox, the reference tools (ipvsadm, keepalived, ip, nft, ...) with their
#             libraries; cached, rebuilt only when the kernel, this file or the host tools change;
#   overlay - the guest's /init, the test suites, and our freshly built binaries; rebuilt every run.
# The kernel unpacks them in order, later files winning.
#
# Sourced by scripts/vm-test and scripts/demo. Expects ROOT (the repository) to be set.

VM_CACHE=${VM_CACHE:-$ROOT/.vm-cache}
VM_RUN=${VM_RUN:-$ROOT/target/vm}
VM_MEMORY=${VM_MEMORY:-512M}

# Our binaries inside the guest. The reference tools keep their Debian paths (/usr/sbin, /sbin).
VM_OUR_BIN=/opt/lvs/sbin

# Kernel modules the guests use, resolved with their dependencies.
VM_MODULES=(
  ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr ip_vs_dh ip_vs_sh ip_vs_sed ip_vs_nq
  ip_vs_fo ip_vs_ovf ip_vs_mh ip_vs_ftp ip_vs_pe_sip
  veth bridge dummy macvlan ipip ip_gre fou ip6_tunnel nlmon tun
  nf_tables nft_chain_nat nft_ct nft_nat ip_tables iptable_filter iptable_mangle iptable_nat
  xt_mark xt_MASQUERADE xt_tcpudp xt_conntrack
)

# Host programs copied into the guest with the libraries they load.
VM_HOST_PROGRAMS=(
  /bin/bash /bin/ip /usr/bin/kmod /usr/sbin/ipvsadm /usr/sbin/keepalived /usr/sbin/nft
  /usr/sbin/xtables-nft-multi /usr/bin/strace /usr/bin/tcpdump /usr/bin/openssl
)
VM_HOST_SCRIPTS=(/usr/sbin/ipvsadm-save /usr/sbin/ipvsadm-restore)

# Debian packages the VM needs on the host: command -> package.
declare -A VM_HOST_PACKAGES=(
  [qemu-system-x86_64]=qemu-system-x86 [busybox]=busybox-static [cpio]=cpio [depmod]=kmod
  [ip]=iproute2 [ipvsadm]=ipvsadm [keepalived]=keepalived [nft]=nftables [xtables-nft-multi]=iptables
  [strace]=strace [tcpdump]=tcpdump [dpkg-deb]=dpkg [openssl]=openssl
)

vm_log() { printf '%s\n' "vm: $*" >&2; }
vm_die() { vm_log "error: $*"; exit 2; }

apt_updated=
vm_apt_update() {
  [ -n "$apt_updated" ] && return 0
  vm_log "apt-get update"
  apt-get update -qq >/dev/null || vm_die "apt-get update failed"
  apt_updated=1
}

# Install the Debian packages the VM needs when their commands are missing.
vm_ensure_host_packages() {
  local missing=() cmd
  for cmd in "${!VM_HOST_PACKAGES[@]}"; do
    PATH=$PATH:/usr/sbin:/sbin command -v "$cmd" >/dev/null 2>&1 || missing+=("${VM_HOST_PACKAGES[$cmd]}")
  done
  # busybox must be the static build: the guest has no libc of its own for it.
  if command -v busybox >/dev/null 2>&1 && ! file -L "$(command -v busybox)" 2>/dev/null | grep -q 'statically linked'; then
    missing+=(busybox-static)
  fi
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || vm_die "missing packages (${missing[*]}) and not root to install them"
  vm_apt_update
  vm_log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" file >/dev/null ||
    vm_die "apt-get install ${missing[*]} failed"
}

# Resolve, download and unpack Debian's cloud kernel. Sets VM_KVER and VM_KERNEL_TREE.
vm_fetch_kernel() {
  local pkg
  pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  if [ -z "$pkg" ]; then
    vm_apt_update
    pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  fi
  [ -n "$pkg" ] || vm_die "cannot resolve linux-image-cloud-amd64 to a kernel package"
  VM_KVER=${pkg#linux-image-}
  VM_KERNEL_TREE=$VM_CACHE/kernel/$VM_KVER
  [ -f "$VM_KERNEL_TREE/boot/vmlinuz-$VM_KVER" ] && return 0
  mkdir -p "$VM_CACHE/kernel"
  local dl
  dl=$(mktemp -d "$VM_CACHE/kernel/download.XXXXXX")
  vm_log "downloading $pkg"
  if ! (cd "$dl" && apt-get download -qq -o APT::Sandbox::User=root "$pkg" >/dev/null 2>&1); then
    vm_apt_update
    (cd "$dl" && apt-get download -qq -o APT::Sandbox::User=root "$pkg" >/dev/null) || vm_die "apt-get download $pkg failed"
  fi
  rm -rf "$VM_KERNEL_TREE.tmp"
  dpkg-deb -x "$dl"/*.deb "$VM_KERNEL_TREE.tmp" || vm_die "cannot unpack $pkg"
  depmod -b "$VM_KERNEL_TREE.tmp" "$VM_KVER" || vm_die "depmod failed for $VM_KVER"
  rm -rf "$dl"
  mv "$VM_KERNEL_TREE.tmp" "$VM_KERNEL_TREE"
}

# Copy a host file into the staging tree at the same path, following symlinks for the content.
vm_stage_file() {
  local stage=$1 file=$2
  [ -e "$stage$file" ] && return 0
  mkdir -p "$stage$(dirname "$file")"
  cp -L "$file" "$stage$file"
}

# Copy the shared libraries a dynamic program loads (ldd exits 1 for static programs).
vm_stage_libraries() {
  local stage=$1 program=$2 lib
  for lib in $(ldd "$program" 2>/dev/null | awk '/=> \// {print $3} /^\t\/lib/ {print $1}'); do
    vm_stage_file "$stage" "$lib"
  done
}

# The cached base image. Sets VM_BASE.
vm_build_base() {
  local key
  key=$(
    {
      echo "$VM_KVER"
      cat "${BASH_SOURCE[0]}"
      for p in "${VM_HOST_PROGRAMS[@]}" "${VM_HOST_SCRIPTS[@]}" /bin/busybox; do md5sum "$p"; done
    } | md5sum | cut -c1-12
  )
  VM_BASE=$VM_CACHE/base-$VM_KVER-$key.cpio.gz
  [ -f "$VM_BASE" ] && return 0
  vm_log "building the base image for $VM_KVER"
  local stage
  stage=$(mktemp -d "$VM_CACHE/stage.XXXXXX")
  mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc,proc,sys,dev,tmp,run,var/run,root,mnt}

  # busybox applets, where no real program is installed below.
  cp /bin/busybox "$stage/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list); do
    [ -e "$stage/bin/$applet" ] || ln -s busybox "$stage/bin/$applet"
  done

  local p
  for p in "${VM_HOST_PROGRAMS[@]}"; do
    rm -f "$stage$p"
    vm_stage_file "$stage" "$p"
    vm_stage_libraries "$stage" "$p"
  done
  for p in "${VM_HOST_SCRIPTS[@]}"; do vm_stage_file "$stage" "$p"; done
  # kmod answers to its applet names; the kernel's module autoloader calls /sbin/modprobe.
  for applet in modprobe insmod rmmod lsmod depmod modinfo; do
    rm -f "$stage/bin/$applet" "$stage/sbin/$applet"
    ln -s /usr/bin/kmod "$stage/sbin/$applet"
  done
  for applet in iptables iptables-save iptables-restore ip6tables; do
    ln -sf xtables-nft-multi "$stage/usr/sbin/$applet"
  done
  rm -f "$stage/bin/ip"; vm_stage_file "$stage" /bin/ip
  ln -sf /bin/ip "$stage/usr/sbin/ip"
  # Debian's ipvsadm lives in /sbin; keep both names as on a merged-/usr system.
  for p in ipvsadm ipvsadm-save ipvsadm-restore; do ln -sf "/usr/sbin/$p" "$stage/sbin/$p"; done
  rm -f "$stage/bin/sh"; ln -s bash "$stage/bin/sh"
  mkdir -p "$stage/usr/lib/x86_64-linux-gnu"
  cp -a /usr/lib/x86_64-linux-gnu/xtables "$stage/usr/lib/x86_64-linux-gnu/"

  # Name services: ipvsadm resolves host and service names.
  local f
  for f in /etc/services /etc/protocols /etc/ethertypes; do [ -f "$f" ] && vm_stage_file "$stage" "$f"; done
  printf 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$stage/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files\nservices: files\nprotocols: files\n' >"$stage/etc/nsswitch.conf"
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$stage/etc/hosts"
  echo vm >"$stage/etc/hostname"

  # Kernel modules: the closure of VM_MODULES, with the metadata depmod needs.
  local modroot=$VM_KERNEL_TREE/lib/modules/$VM_KVER mod line
  mkdir -p "$stage/lib/modules/$VM_KVER"
  for mod in "${VM_MODULES[@]}"; do
    while read -r line; do
      case $line in
        insmod\ *)
          line=${line#insmod }; line=${line%% *}
          mkdir -p "$stage$(dirname "${line#"$VM_KERNEL_TREE"}")"
          cp -n "$line" "$stage${line#"$VM_KERNEL_TREE"}"
          ;;
      esac
    done < <(modprobe -d "$VM_KERNEL_TREE" -S "$VM_KVER" --show-depends "$mod" 2>/dev/null || vm_die "no module $mod")
  done
  cp "$modroot"/modules.order "$modroot"/modules.builtin* "$stage/lib/modules/$VM_KVER/"
  depmod -b "$stage" "$VM_KVER" || vm_die "depmod of the base image failed"

  (cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$VM_BASE.tmp" || vm_die "cpio of the base image failed"
  mv "$VM_BASE.tmp" "$VM_BASE"
  rm -rf "$stage"
  # Older bases of other keys are of no further use.
  find "$VM_CACHE" -maxdepth 1 -name 'base-*.cpio.gz' ! -path "$VM_BASE" -delete
}

# The per-run overlay: /init, a plan of what to run, the test data (suites in testdata/vm) and our
# binaries. Sets VM_OVERLAY.
#   $1 - file with the plan (one line per suite: "shell NAME" or "rust NAME")
#   $2.. - files to place as "SRC:DEST"
vm_build_overlay() {
  local plan=$1; shift
  local stage=$VM_RUN/overlay
  rm -rf "$stage"
  mkdir -p "$stage/etc/lvs-vm" "$stage$VM_OUR_BIN" "$stage/opt/lvs/tests" "$stage/opt/lvs/testdata"
  cp "$ROOT/scripts/lib/vm-init" "$stage/init"
  chmod 755 "$stage/init"
  cp "$plan" "$stage/etc/lvs-vm/plan"
  cp -r "$ROOT/testdata/." "$stage/opt/lvs/testdata/"
  local spec src dest
  for spec in "$@"; do
    src=${spec%%:*}; dest=${spec#*:}
    mkdir -p "$stage$(dirname "$dest")"
    cp -L "$src" "$stage$dest"
    # Libraries the base image lacks (ldd names them; a static program has none).
    local lib
    for lib in $(ldd "$src" 2>/dev/null | awk '/=> \// {print $3} /^\t\/lib/ {print $1}'); do
      vm_base_has "$lib" || vm_stage_file "$stage" "$lib"
    done
  done
  VM_OVERLAY=$VM_RUN/overlay.cpio.gz
  (cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$VM_OVERLAY" || vm_die "cpio of the overlay failed"
}

vm_base_index=
vm_base_has() {
  if [ -z "$vm_base_index" ]; then
    vm_base_index=$VM_RUN/base.index
    zcat "$VM_BASE" | cpio -t --quiet 2>/dev/null | sed 's|^\./||; s|^|/|' >"$vm_base_index"
  fi
  grep -qxF "$1" "$vm_base_index"
}

# Empty the logs of the previous run (before anything starts reading them).
vm_reset_logs() {
  : >"$VM_RUN/console.log"
  : >"$VM_RUN/results.log"
}

# Boot the guest. Results arrive on the second serial port ($VM_RUN/results.log), the console on the
# first ($VM_RUN/console.log). Returns qemu's status (124 when the hard timeout struck).
#   $1 - timeout in seconds
vm_boot() {
  local limit=$1
  cat "$VM_BASE" "$VM_OVERLAY" >"$VM_RUN/initrd.gz"
  timeout --kill-after=10 "$limit" qemu-system-x86_64 \
    -accel tcg,tb-size=256 -cpu max -smp 1 -m "$VM_MEMORY" \
    -display none -monitor none -no-reboot -nodefaults \
    -serial "file:$VM_RUN/console.log" -serial "file:$VM_RUN/results.log" \
    -kernel "$VM_KERNEL_TREE/boot/vmlinuz-$VM_KVER" -initrd "$VM_RUN/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1 ${VM_APPEND:-}"
}

# Everything up to a bootable image: packages, kernel, base image.
vm_prepare() {
  mkdir -p "$VM_CACHE" "$VM_RUN"
  vm_ensure_host_packages
  vm_fetch_kernel
  vm_build_base
}
