#!/usr/bin/env bash
# setup-assets.sh - make sure the v2 lane can boot: qemu installed, Debian's
# current kernel + busybox-static downloaded and unpacked (not installed),
# initramfs built. Everything is cached under $TSTOP_V2VM_HOME
# (default /var/cache/tstop-v2vm); a warm run only checks and returns.
#
#   usage: test/vm/setup-assets.sh        (TSTOP_V2VM_REFRESH=1: re-resolve
#                                          and re-download the kernel)
# On success writes $TSTOP_V2VM_HOME/assets/current.env (KVER, KERNEL, INITRD)
# for run-in-guest.sh. On failure prints one line and exits 125.
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
# any failure not caught below still ends in one line, not a silent exit
trap 'lane_fail "asset setup failed at setup-assets.sh line $LINENO (see ${LOG:-the log})"' ERR

mkdir -p "$V2VM_ASSETS" 2>/dev/null || lane_fail "cannot create $V2VM_ASSETS (set TSTOP_V2VM_HOME to a writable dir)"
LOG=$V2VM_ASSETS/setup.log
# apt's and dpkg's chatter goes to the log; the console gets one line either way
export DEBIAN_FRONTEND=noninteractive   # apt must never wait for an answer
step() { echo "tstop-v2-lane: setup: $*" >&2; echo "== $*" >> "$LOG"; }

# Only one setup at a time (parallel lanes share the cache).
exec 9> "$V2VM_ASSETS/.lock"
flock 9

apt_updated=
apt_update() {
  [ -n "$apt_updated" ] && return 0
  step "apt-get update"
  apt-get update >> "$LOG" 2>&1 || lane_fail "apt-get update failed (see $LOG)"
  apt_updated=1
}

# --- host tools: qemu (and xz, to unpack the kernel image) --------------------
need_pkgs=()
command -v qemu-system-x86_64 > /dev/null || need_pkgs+=(qemu-system-x86)
command -v xz > /dev/null || need_pkgs+=(xz-utils)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || lane_fail "${need_pkgs[*]} not installed, and only root can apt-get install it"
  step "apt-get install ${need_pkgs[*]}"
  # try with the current package lists first: an update costs time and network
  if ! apt-get install -y --no-install-recommends "${need_pkgs[@]}" >> "$LOG" 2>&1; then
    apt_update
    apt-get install -y --no-install-recommends "${need_pkgs[@]}" >> "$LOG" 2>&1 \
      || lane_fail "apt-get install ${need_pkgs[*]} failed (see $LOG)"
  fi
fi

# --- kernel + busybox ---------------------------------------------------------
# The kernel ABI version that Debian's linux-image-amd64 metapackage points at.
resolve_kver() {
  { apt-cache depends linux-image-amd64 2>/dev/null || true; } \
    | sed -n 's/^ *Depends: linux-image-\([0-9].*-amd64\)$/\1/p' | head -n 1
}

KVER=
if [ -z "${TSTOP_V2VM_REFRESH:-}" ] && [ -s "$V2VM_ASSETS/kernel.current" ]; then
  KVER=$(cat "$V2VM_ASSETS/kernel.current")   # warm: no apt at all
  [ -s "$V2VM_ASSETS/$KVER/vmlinux" ] || KVER=
fi
if [ -z "$KVER" ]; then
  KVER=$(resolve_kver)
  if [ -z "$KVER" ]; then apt_update; KVER=$(resolve_kver); fi
  [ -n "$KVER" ] || lane_fail "apt-cache cannot resolve linux-image-amd64 to a kernel package"
fi
KDIR=$V2VM_ASSETS/$KVER

# bzImage -> uncompressed ELF vmlinux. qemu boots an ELF vmlinux through its
# PVH entry point: no in-guest decompression (seconds under TCG), and qemu's
# microvm machine cannot boot a bzImage without firmware anyway. Debian's
# image is xz-compressed; gzip and zstd are tried too for other kernels.
extract_vmlinux() { # in out
  local in=$1 out=$2 magic cmd off
  for spec in '\xfd7zXZ\x00|xz -dcq --single-stream' '\x1f\x8b\x08|gzip -dcq' '\x28\xb5\x2f\xfd|zstd -dcq'; do
    magic=${spec%%|*} cmd=${spec#*|}
    command -v "${cmd%% *}" > /dev/null || continue
    for off in $(LC_ALL=C grep -obUaP "$magic" "$in" | cut -d: -f1 | head -n 5); do
      tail -c +$((off + 1)) "$in" | $cmd > "$out" 2>/dev/null || true
      [ "$(head -c 4 "$out" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] && return 0
    done
  done
  rm -f "$out"; return 1
}

# The module file for a name, searched in the unpacked kernel package.
module_path() { grep -m1 -E "/$1\.ko(\.xz|\.zst)?$" "$MODROOT/modules.order.full"; }

# Append a module and, first, its dependencies (from its own .modinfo
# depends= field: the package has no modules.dep, depmod runs at install).
declare -A seen=()
add_module() {
  local m=$1 f dep
  [ -n "${seen[$m]:-}" ] && return 0
  seen[$m]=1
  f=$(module_path "$m") || {
    grep -qE "/$m\.ko" "$MODROOT/modules.builtin" && return 0   # built in: nothing to load
    lane_fail "kernel $KVER has no module $m"
  }
  case $f in
    *.xz) xz -dc "$f" > "$KDIR/modules/$m.ko.tmp";;
    *.zst) zstd -dcq "$f" > "$KDIR/modules/$m.ko.tmp";;
    *) cp "$f" "$KDIR/modules/$m.ko.tmp";;
  esac
  mv "$KDIR/modules/$m.ko.tmp" "$KDIR/modules/$m.ko"
  for dep in $(grep -aom1 'depends=[A-Za-z0-9_,-]*' "$KDIR/modules/$m.ko" | sed 's/^depends=//; s/,/ /g'); do
    add_module "$dep"
  done
  case $m in   # the RAM disk for io tests: one 64 MiB /dev/ram0 (rd_size is in KiB)
    brd) echo "brd rd_nr=1 rd_size=65536";;
    loop) echo "loop max_loop=8";;
    *) echo "$m";;
  esac >> "$KDIR/modules.list.tmp"
}

# The module set is part of the assets: a changed V2VM_MODULES unpacks the kernel again.
if [ ! -s "$KDIR/vmlinux" ] || [ ! -s "$KDIR/modules.list" ] || [ ! -x "$KDIR/busybox" ] \
  || [ "$(cat "$KDIR/modules.wanted" 2>/dev/null)" != "$V2VM_MODULES" ]; then
  step "fetching kernel linux-image-$KVER and busybox-static (apt-get download, not installed)"
  work=$(mktemp -d "$V2VM_ASSETS/fetch.XXXXXX")
  trap 'rm -rf -- "$work"' EXIT
  # APT::Sandbox::User=root: apt's _apt user may not write into this dir
  ( cd "$work" && apt-get download -o APT::Sandbox::User=root "linux-image-$KVER" busybox-static ) >> "$LOG" 2>&1 \
    || { apt_update; ( cd "$work" && apt-get download -o APT::Sandbox::User=root "linux-image-$KVER" busybox-static ) >> "$LOG" 2>&1; } \
    || lane_fail "apt-get download linux-image-$KVER busybox-static failed (see $LOG)"
  dpkg-deb -x "$work"/linux-image-*.deb "$work/k" || lane_fail "dpkg-deb -x of the kernel package failed"
  dpkg-deb -x "$work"/busybox-static_*.deb "$work/bb" || lane_fail "dpkg-deb -x of busybox-static failed"

  rm -rf "$KDIR"; mkdir -p "$KDIR/modules"
  cp "$work/k/boot/config-$KVER" "$KDIR/config"
  extract_vmlinux "$work/k/boot/vmlinuz-$KVER" "$KDIR/vmlinux" \
    || lane_fail "cannot unpack an ELF vmlinux from vmlinuz-$KVER"
  cp "$work/bb/bin/busybox" "$KDIR/busybox"

  MODROOT=$work/k/lib/modules/$KVER
  # every module file of the package, for module_path
  find "$MODROOT/kernel" -name '*.ko*' > "$MODROOT/modules.order.full"
  : > "$KDIR/modules.list.tmp"
  for m in $V2VM_MODULES; do add_module "$m"; done
  mv "$KDIR/modules.list.tmp" "$KDIR/modules.list"
  echo "$V2VM_MODULES" > "$KDIR/modules.wanted"
  rm -rf -- "$work"; trap - EXIT   # the .debs (~70 MB) are not needed any more
  echo "$KVER" > "$V2VM_ASSETS/kernel.current"
fi

# --- initramfs ----------------------------------------------------------------
# Named by a hash of its inputs, so an edit of guest/init rebuilds it.
key=$(cat "$V2VM_DIR/guest/init" "$KDIR/modules.list" <(echo "$KVER") | sha256sum | cut -c1-16)
INITRD=$KDIR/initrd-$key.cpio
if [ ! -s "$INITRD" ]; then
  step "building initramfs for $KVER"
  ir=$(mktemp -d "$V2VM_ASSETS/initrd.XXXXXX")
  trap 'rm -rf -- "$ir"' EXIT
  mkdir -p "$ir"/{bin,dev,proc,sys,lib/modules}
  cp "$KDIR/busybox" "$ir/bin/busybox"
  for applet in $("$KDIR/busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$ir/bin/$applet"
  done
  cp "$KDIR"/modules/*.ko "$ir/lib/modules/"
  cp "$KDIR/modules.list" "$ir/modules.list"
  install -m 755 "$V2VM_DIR/guest/init" "$ir/init"
  rm -f "$KDIR"/initrd-*.cpio   # older builds
  ( cd "$ir" && find . | LC_ALL=C sort | "$KDIR/busybox" cpio -o -H newc -R 0:0 2>/dev/null ) > "$INITRD.tmp" \
    || lane_fail "cannot build the initramfs"
  mv "$INITRD.tmp" "$INITRD"
  rm -rf -- "$ir"; trap - EXIT
fi

printf 'KVER=%s\nKERNEL=%s\nINITRD=%s\n' "$KVER" "$KDIR/vmlinux" "$INITRD" > "$V2VM_ASSETS/current.env"
