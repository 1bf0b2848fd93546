#!/usr/bin/env bash
# run-in-guest.sh - run a command inside a throw-away QEMU guest booted with
# Debian's stock kernel and a pure cgroup v2 hierarchy.
#
#   usage: test/vm/run-in-guest.sh [-e VAR=VALUE]... [-t SECONDS] [--] command [args...]
#
# The repo is shared read-write at its host path; the command runs as root in
# the current directory if that is inside the repo, else in the repo root,
# with the host's / (read-only, under a throw-away overlay) as its root, so
# node, node_modules and util-linux are the host's own. stdout and stderr are
# streamed back. Environment passed in: CI, TERM, LANG, NODE_OPTIONS,
# FORCE_COLOR, every TSTOP_* variable, and each -e VAR=VALUE.
#
# Exit status: the command's; 124 if it ran longer than -t (default
# $TSTOP_V2VM_TIMEOUT or 600 s) or the guest hung; 125 if the lane could not
# start or the guest died (one line says why). Settings: see common.sh.
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
trap 'lane_fail "internal error at run-in-guest.sh line $LINENO"' ERR

limit=${TSTOP_V2VM_TIMEOUT:-600}
envs=()
while [ $# -gt 0 ]; do
  case $1 in
    -e) [[ ${2:-} =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || lane_fail "-e wants VAR=VALUE"; envs+=("$2"); shift 2;;
    -t) [ $# -ge 2 ] || lane_fail "-t wants a number of seconds"; limit=$2; shift 2;;
    --) shift; break;;
    -*) lane_fail "unknown option $1 (usage: run-in-guest.sh [-e VAR=VALUE]... [-t SECONDS] [--] command...)";;
    *) break;;
  esac
done
[ $# -gt 0 ] || lane_fail "no command given"
[[ $limit =~ ^[1-9][0-9]*$ ]] || lane_fail "the timeout must be a positive number of seconds"

# fast when cached; prints one line and exits 125 if it cannot
"$V2VM_DIR/setup-assets.sh" || exit 125
source "$V2VM_ASSETS/current.env"

# --- accelerator --------------------------------------------------------------
# /dev/kvm alone is not enough: on nested hosts it may be served by a
# software hypervisor (kvm_pvm, no VMX/SVM) that runs a stock kernel far
# slower than TCG. Use KVM only with a hardware-backed module loaded.
accel=${TSTOP_V2VM_ACCEL:-auto}
if [ "$accel" = auto ]; then
  accel=tcg
  if [ -r /dev/kvm ] && [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then
    accel=kvm
  fi
fi
cmdline_tsc=
case $accel in
  kvm) accel_args=(-accel kvm -cpu host);;
  tcg)
    # shellcheck disable=SC2054 # the commas are qemu's
    accel_args=(-accel tcg,thread=multi -cpu max)
    # Under TCG the guest reads the host's TSC. The kernel's own calibration
    # against the emulated PIT fails now and then on a busy host and the
    # boot hangs; give it the host's TSC rate and have it trust the TSC.
    khz=$(awk -F': *' '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
    if grep -qw constant_tsc /proc/cpuinfo && [ "${khz:-0}" -gt 0 ]; then
      cmdline_tsc="tsc=reliable tsc_early_khz=$khz"
    fi;;
  *) lane_fail "TSTOP_V2VM_ACCEL must be auto, kvm or tcg";;
esac

# --- run dir: the guest's mailbox (cmd.sh in; stdout, stderr, rc out) ---------
mkdir -p "$V2VM_RUNS"
# run dirs kept for debugging (failures, TSTOP_V2VM_KEEP) go after two days
find "$V2VM_RUNS" -mindepth 1 -maxdepth 1 -name 'run.*' -mtime +2 -exec rm -rf -- {} + 2>/dev/null || true
RUN=$(mktemp -d "$V2VM_RUNS/run.XXXXXX")
case $PWD/ in "$V2VM_REPO"/*) cwd=$PWD;; *) cwd=$V2VM_REPO;; esac
echo "$V2VM_REPO" > "$RUN/repo"
echo "$limit" > "$RUN/timeout"
echo "$(ulimit -Sn) $(ulimit -Hn)" > "$RUN/nofile"
{
  echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root USER=root LOGNAME=root SHELL=/bin/bash'
  for v in CI TERM LANG NODE_OPTIONS FORCE_COLOR $(compgen -e | grep '^TSTOP_' || true); do
    if [ -n "${!v+set}" ]; then printf 'export %s=%q\n' "$v" "${!v}"; fi
  done
  for kv in "${envs[@]}"; do printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"; done
  printf 'cd -- %q || exit 125\n' "$cwd"
  printf 'exec'; printf ' %q' "$@"; printf '\n'
} > "$RUN/cmd.sh"
qemu_pid='' tails=()
cleanup() {
  [ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true
  for p in "${tails[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "${TSTOP_V2VM_KEEP:-}" ]; then echo "tstop-v2-lane: run dir kept: $RUN" >&2; else rm -rf -- "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM

loglevel="quiet loglevel=4"; [ -n "${TSTOP_V2VM_DEBUG:-}" ] && loglevel="loglevel=7"
# cgroup_no_v1=all: no v1 controller can be mounted, the guest is pure v2.
# panic=-1 (with -no-reboot): a kernel panic ends qemu instead of hanging it.
# mitigations=off, i8042.*: save boot time, nothing to protect or probe here
# (microvm has no keyboard controller).
append="console=ttyS0 $loglevel $cmdline_tsc panic=-1 rdinit=/init cgroup_no_v1=all mitigations=off i8042.noaux i8042.nokbd tstop.run=$RUN"

# fsdev paths are comma-separated option lists: double any comma
esc() { printf '%s' "${1//,/,,}"; }
# microvm: no firmware, PCI or legacy devices to initialise (fast TCG boot);
# virtio devices sit on virtio-mmio, described to the kernel by ACPI.
# multidevs=remap: the host root spans several filesystems (inode clashes).
# The host root is shared readonly=on: the guest cannot write to the host
# outside the repo and the run dir, whatever it does.
boot_limit=${TSTOP_V2VM_BOOT_TIMEOUT:-60}
boot_guest() { # one boot; sets qrc (qemu's exit status) and booted
  : > "$RUN/stdout"; : > "$RUN/stderr"
  timeout -k 5 $((limit + boot_limit + 30)) qemu-system-x86_64 "${accel_args[@]}" \
    -M microvm -m "${TSTOP_V2VM_MEM:-2G}" -smp "${TSTOP_V2VM_CPUS:-2}" \
    -nodefaults -no-user-config -display none -no-reboot \
    -serial "file:$RUN/console.log" \
    -kernel "$KERNEL" -initrd "$INITRD" -append "$append" \
    -fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
    -device virtio-9p-device,fsdev=hostroot,mount_tag=hostroot \
    -fsdev "local,id=repofs,path=$(esc "$V2VM_REPO"),security_model=none,multidevs=remap" \
    -device virtio-9p-device,fsdev=repofs,mount_tag=repofs \
    -fsdev "local,id=runfs,path=$(esc "$RUN"),security_model=none" \
    -device virtio-9p-device,fsdev=runfs,mount_tag=runfs \
    > "$RUN/qemu.log" 2>&1 < /dev/null &
  qemu_pid=$!
  local t0 i; t0=$(date +%s.%N)

  # stream the command's output while it runs
  tail -q -n +1 -s 0.2 -F --pid="$qemu_pid" "$RUN/stdout" 2>/dev/null & tails+=($!)
  tail -q -n +1 -s 0.2 -F --pid="$qemu_pid" "$RUN/stderr" >&2 2>/dev/null & tails+=($!)

  # Boot watchdog: a guest that has not started the command in time is hung.
  booted=
  for ((i = 0; i < boot_limit * 5; i++)); do
    [ -e "$RUN/started" ] && { booted=1; break; }
    kill -0 "$qemu_pid" 2>/dev/null || break
    sleep 0.2
  done
  if [ -n "$booted" ]; then
    echo "tstop-v2-lane: guest booted in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s (kernel uptime $(cat "$RUN/started")s, accel $accel)" >&2
  elif kill -0 "$qemu_pid" 2>/dev/null; then
    : > "$RUN/boot-timeout"; kill "$qemu_pid" || true
  fi
  qrc=0; wait "$qemu_pid" || qrc=$?
  qemu_pid=''
  for p in "${tails[@]}"; do wait "$p" 2>/dev/null || true; done; tails=()
}

boot_guest
# A boot that hangs (seen once in ~150 boots on a heavily loaded host) has not
# run any of the command yet, so booting again is safe: once, and said so.
if [ -e "$RUN/boot-timeout" ]; then
  mv "$RUN/console.log" "$RUN/console.hung.log"; rm -f "$RUN/boot-timeout"
  echo "tstop-v2-lane: the guest did not boot within ${boot_limit}s; booting again (first console log kept in $RUN/console.hung.log)" >&2
  export TSTOP_V2VM_KEEP=1
  boot_guest
fi

if [ -n "${TSTOP_V2VM_DEBUG:-}" ]; then
  echo "----- guest console -----" >&2; cat "$RUN/console.log" >&2
  echo "----- qemu (exit status $qrc) -----" >&2; cat "$RUN/qemu.log" >&2
fi
rc=$(cat "$RUN/rc" 2>/dev/null || true)
if [[ $rc =~ ^[0-9]+$ ]]; then
  [ -e "$RUN/timedout" ] && cat "$RUN/timedout" >&2
  exit "$rc"
fi

# No exit status came back: say why in one line, then the evidence.
export TSTOP_V2VM_KEEP=1   # keep the console log for a look
why=$(grep -m1 -o 'tstop-v2vm-init: FATAL: .*' "$RUN/console.log" 2>/dev/null || true)
[ -n "$why" ] || why=$(grep -m1 -o 'Kernel panic.*' "$RUN/console.log" 2>/dev/null || true)
[ -n "$why" ] || why=$(grep -m1 '^qemu-system' "$RUN/qemu.log" 2>/dev/null | grep -v 'terminating on signal' || true)
if [ -e "$RUN/boot-timeout" ]; then
  echo "tstop-v2-lane: cannot start: the guest did not boot within ${boot_limit}s, twice${why:+ ($why)}" >&2; code=124
elif [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
  echo "tstop-v2-lane: the guest hung: host-side timeout fired, qemu killed" >&2; code=124
elif [ -z "$booted" ]; then
  echo "tstop-v2-lane: cannot start: the guest died during boot (qemu exit status $qrc)${why:+: $why}" >&2; code=125
else
  echo "tstop-v2-lane: the guest died while running the command (qemu exit status $qrc)" >&2; code=125
fi
{ echo "--- qemu.log:"; tail -n 5 "$RUN/qemu.log"; echo "--- console.log (tail):"; tail -n 20 "$RUN/console.log"; } >&2 2>/dev/null
exit "$code"
