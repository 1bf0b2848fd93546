# common.sh - settings shared by the v2 lane scripts (sourced, not run).
# shellcheck shell=bash disable=SC2034 # the variables are used by the sourcing scripts
#
# Environment (all optional):
#   TSTOP_V2VM_HOME     asset cache + run dirs (default /var/cache/tstop-v2vm
#                       as root, else ~/.cache/tstop-v2vm)
#   TSTOP_V2VM_ACCEL    auto|kvm|tcg (default auto, see run-in-guest.sh)
#   TSTOP_V2VM_MEM      guest RAM (default 2G)
#   TSTOP_V2VM_CPUS     guest vCPUs (default 2)
#   TSTOP_V2VM_TIMEOUT  seconds the guest command may run (default 600)
#   TSTOP_V2VM_BOOT_TIMEOUT  seconds the guest may take to boot (default 60;
#                       a boot that hangs is tried once more)
#   TSTOP_V2VM_REFRESH=1  re-resolve and re-download Debian's current kernel
#   TSTOP_V2VM_KEEP=1   keep the run dir (console.log, qemu.log, stdout, ...)
#   TSTOP_V2VM_DEBUG=1  verbose kernel log, print the console after the run

if [ "$(id -u)" = 0 ]; then V2VM_HOME=${TSTOP_V2VM_HOME:-/var/cache/tstop-v2vm}
else V2VM_HOME=${TSTOP_V2VM_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/tstop-v2vm}; fi
# 9p/fsdev option strings are comma-separated and the kernel command line is
# space-separated: a path with either would silently break the boot.
case $V2VM_HOME in *[[:space:],]*)
  echo "tstop-v2-lane: cannot start: TSTOP_V2VM_HOME must not contain spaces or commas" >&2; exit 125;;
esac
V2VM_ASSETS=$V2VM_HOME/assets
V2VM_RUNS=$V2VM_HOME/runs
V2VM_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)   # test/vm
V2VM_REPO=$(cd -- "$V2VM_DIR/../.." && pwd -P)                    # the repo root

# Kernel modules the guest needs (all =m in Debian's kernel); their
# dependencies are resolved from each module's own depends= field.
#   virtio_mmio: the only bus of qemu's microvm machine
#   9pnet_virtio, 9p: host root + repo + run dir shares
#   overlay: a writable (tmpfs-backed, throw-away) root over the read-only host root
#   brd: /dev/ram0 for io tests;  loop: loop devices
#   ext4, crc32c_generic: a filesystem on a loop device, for io tests that read
#     and write files (ext4 asks the crypto API for crc32c at mount time)
V2VM_MODULES="virtio_mmio 9pnet_virtio 9p overlay brd loop crc32c_generic ext4"

# The one line printed when the lane cannot start (exit 125: not a test result).
lane_fail() { echo "tstop-v2-lane: cannot start: $*" >&2; exit 125; }
