# Guest stage 2: PID 1 after switch_root, run by the host's /bin/bash (seen
# read-only over 9p). Runs $RUN/cmd.sh (written by run-in-guest.sh) under a
# watchdog, records its exit status in $RUN/rc, syncs and powers the guest off.
# Not executable on purpose: it is only meaningful as the guest's PID 1.
set -u
RUN=$1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# qemu runs with -no-reboot, so a reboot request ends it at once. sysrq needs
# no userspace and works even if the 9p shares are wedged.
poweroff_now() { echo b > /proc/sysrq-trigger; sleep 10; }

finish() {
  echo "$1" > "$RUN/rc.tmp" && mv "$RUN/rc.tmp" "$RUN/rc"
  # flush the cache=loose repo share; bounded, a wedged 9p must not hang us
  timeout 20 sync
  poweroff_now
}

read -r limit < "$RUN/timeout"
# RLIMIT_NOFILE as in the host shell that started the lane (the kernel
# default of 1024 would differ from the host and break fd-heavy tests).
read -r soft hard < "$RUN/nofile" && { ulimit -Hn "$hard"; ulimit -Sn "$soft"; }

read -r up _ < /proc/uptime
echo "$up" > "$RUN/started"

# setsid: the command gets its own process group, so the watchdog can kill
# all of it; stdin is /dev/null (nothing to read in a test run).
setsid bash "$RUN/cmd.sh" > "$RUN/stdout" 2> "$RUN/stderr" < /dev/null &
cmd=$!
(
  sleep "$limit"
  echo "tstop-v2-lane: guest command exceeded ${limit}s, killed" > "$RUN/timedout"
  kill -TERM -- "-$cmd" 2>/dev/null; sleep 5; kill -KILL -- "-$cmd" 2>/dev/null
  sleep 10; finish 124   # not even SIGKILL helped (D state): give up on it
) &
watchdog=$!

wait "$cmd"; rc=$?
kill "$watchdog" 2>/dev/null
[ -e "$RUN/timedout" ] && rc=124
finish "$rc"
