/* run mode: start a workload in new namespaces.
 *
 *   helper (stays on the host, relays)           child = PID 1 of the new ns
 *   join cgroups (or CLONE_INTO_CGROUP)
 *   clone3(CLONE_NEW*)  ───────────────────────▶ waits on the sync pipe
 *   write setgroups/uid_map/gid_map
 *   "go" on the sync pipe ─────────────────────▶ hostname, lo, mounts,
 *   relay: pid, signals, pty, exit status         credentials, caps, exec
 *                                                 (or the minimal init)   */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

/* Write all "inside outside count" lines with one write(), as the kernel
 * requires. */
static void write_map(pid_t pid, const char *file, const struct strlist *lines) {
  char path[64], buf[4096];
  size_t len = 0;
  for (size_t i = 0; i < lines->n; i++) {
    int n = snprintf(buf + len, sizeof buf - len, "%s\n", lines->v[i]);
    if (n < 0 || (size_t)n >= sizeof buf - len) fail(EXIT_HELPER, "%s: too many lines", file);
    len += (size_t)n;
  }
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  if (write_file(path, buf) < 0) fail_errno(EXIT_HELPER, "write %s (%s)", path, lines->v[0]);
}

/* The parent writes the maps: it is privileged in the parent user
 * namespace, which the child no longer is. setgroups must be settled
 * before gid_map. */
static void write_id_maps(pid_t pid, const struct spec *s) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
  if (write_file(path, s->setgroups_deny ? "deny" : "allow") < 0 && errno != ENOENT)
    fail_errno(EXIT_HELPER, "write %s", path);
  write_map(pid, "uid_map", &s->uid_map);
  write_map(pid, "gid_map", &s->gid_map);
  trace("maps-written");
}

static void child_main(const struct spec *s, int sync_rd, int tty_sock) {
  set_role("child");
  trace("child-start");
  char go;
  ssize_t n;
  do n = read(sync_rd, &go, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1) _exit(EXIT_HELPER); /* the parent failed and has said why */
  g_lifeline_fd = sync_rd;       /* the parent keeps its end open */
  trace("released");

  if (s->ns_flags & CLONE_NEWUSER) become_userns_root();
  /* Unshared only now, so the namespace's root is the cgroup we were
   * placed in (clone3's CLONE_INTO_CGROUP would root it at the parent's). */
  if ((s->ns_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
    fail_errno(EXIT_HELPER, "unshare(CLONE_NEWCGROUP)");
  set_hostname(s);
  if ((s->ns_flags & CLONE_NEWNET) && !network_kept()) bring_up_loopback(); /* a restart's lo is up */
  configure_eth0(s); /* --network bridge: the veth tstop moved in while we waited */
  trace("ns-setup-done");
  setup_mounts(s);
  if (tty_sock >= 0) tty_setup_child(tty_sock);
  enter_workdir(s);
  drop_privileges(s);
  if (s->init) run_init(s);
  exec_workload(s);
}

/* Create the child inside its cgroups; returns its pid (0 in the child).
 * The helper itself stays in its own cgroups, as docker's shim does: it
 * counts against none of the container's limits and is not among its
 * processes (the dashboard's "oldest process" of the container is its PID
 * 1). A cgroup2 entry is entered with clone3(CLONE_INTO_CGROUP); anything
 * else (v1 hierarchies, or a kernel that refuses CLONE_INTO_CGROUP) through
 * a short-lived placer process (spawn_placed). */
static pid_t spawn(const struct spec *s, unsigned long flags) {
  size_t v2_index = (size_t)-1;
  int cgroup_fd = cgroup_clone_dir(s, &v2_index);
  size_t skip = cgroup_fd >= 0 ? v2_index : (size_t)-1;
  if (!cgroup_needs_join(s, skip)) {
    pid_t pid = clone_child(flags, cgroup_fd);
    if (pid >= 0 || cgroup_fd < 0) {
      if (pid != 0 && cgroup_fd >= 0) close(cgroup_fd);
      return pid;
    }
    /* CLONE_INTO_CGROUP refused (old kernel, seccomp, ...): the placer
     * joins by cgroup.procs, which also reports the real error. */
    close(cgroup_fd);
    cgroup_fd = -1;
    skip = (size_t)-1;
  }
  return spawn_placed(s, skip, cgroup_fd, flags, NULL, NULL);
}

/* One start of the workload, until it exits; *started once it exec'd.
 * The supervisor (supervisor.c) calls it again for --restart. */
static int run_once(const struct spec *s, int *started) {
  int sync[2], err[2], tty[2] = {-1, -1};
  if (pipe2(sync, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) fail_errno(EXIT_HELPER, "pipe2");
  if (s->tty && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, tty) < 0)
    fail_errno(EXIT_HELPER, "socketpair");

  /* The cgroup namespace is unshared by the child itself (see child_main). */
  unsigned long flags = s->ns_flags & ~(unsigned long)CLONE_NEWCGROUP;
  flags = network_restart_flags(flags); /* --restart of a bridged container: its first netns again */
  pid_t pid = spawn(s, flags);
  if (pid < 0) fail_errno(EXIT_HELPER, "clone3(namespaces %#lx)", flags);
  if (pid == 0) {
    close(sync[1]);
    close(err[0]);
    if (tty[0] >= 0) close(tty[0]);
    g_err_fd = err[1];
    child_main(s, sync[0], tty[1]);
  }
  trace("clone");
  close(sync[0]);
  close(err[1]);
  if (tty[1] >= 0) close(tty[1]);

  if (s->ns_flags & CLONE_NEWUSER) write_id_maps(pid, s);
  wait_for_network(s, pid); /* --network bridge: eth0 is there before the workload runs */
  /* sync[1] stays open until we exit: it is the child's lifeline. */
  if (write(sync[1], "1", 1) != 1) fail_errno(EXIT_HELPER, "release child");

  int master = tty[0] >= 0 ? tty_receive_master(tty[0]) : -1;
  struct relay r = {.child = pid, .err_rd = err[0], .master = master};
  int code = relay_until_exit(&r);
  close(sync[1]);
  if (r.master >= 0) close(r.master);
  *started = r.started;
  return code;
}

int run_mode(const struct spec *s) {
  start_logger(s); /* detached: stdout/stderr through the capped log from here on */
  block_signals(); /* before clone: no signal may slip between */
  attach_device_filter(s); /* cgroup v2: before anything runs in the cgroup (once: it stays attached) */
  join_netns(s);           /* --network container:NAME: every child (and restart) inherits it */
  return owner_finish(supervise(s, run_once)); /* a foreground container the helper owns (owner.c) */
}
