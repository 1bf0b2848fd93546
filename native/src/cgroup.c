/* Cgroup placement. tstop prepares the cgroups; the helper only moves
 * processes. The workload must start inside its cgroups, so placement
 * happens before any child exists:
 *  - a cgroup2 entry can be entered atomically at creation time with
 *    clone3(CLONE_INTO_CGROUP), which also keeps the helper itself outside;
 *  - everything else (v1 hierarchies, or kernels without clone3) is joined
 *    by writing the helper's own pid to cgroup.procs, so children inherit. */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif

static int dir_of(const char *procs_path, char *dir, size_t size) {
  const char *slash = strrchr(procs_path, '/');
  if (!slash || slash == procs_path || (size_t)(slash - procs_path) >= size) return -1;
  memcpy(dir, procs_path, (size_t)(slash - procs_path));
  dir[slash - procs_path] = '\0';
  return 0;
}

/* Returns an fd for the single cgroup2 directory listed in the spec (for
 * CLONE_INTO_CGROUP) and stores its index, or -1 when there is none (or more
 * than one, which the kernel could not honour anyway). */
int cgroup_clone_dir(const struct spec *s, size_t *index) {
  if (!s->cgroup_clone) return -1;
  int found = -1;
  for (size_t i = 0; i < s->cgroup_procs.n; i++) {
    char dir[PATH_MAX];
    struct statfs sf;
    if (dir_of(s->cgroup_procs.v[i], dir, sizeof dir) < 0) continue;
    if (statfs(dir, &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC) continue;
    if (found >= 0) return -1;
    found = (int)i;
  }
  if (found < 0) return -1;
  char dir[PATH_MAX];
  dir_of(s->cgroup_procs.v[found], dir, sizeof dir);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1; /* fall back to cgroup.procs, which reports the error */
  *index = (size_t)found;
  return fd;
}

/* On cgroup v1, move only the calling thread: "0" written to the `tasks`
 * file beside cgroup.procs. The helper has a single thread, so that moves
 * the whole process, and the kernel (since 6.2) then skips the global
 * threadgroup lock, whose first write-lock waits for an RCU grace period:
 * 5-15 ms per launch on a hybrid host, more than everything else the helper
 * does. Returns 0 when done, -1 to fall back to cgroup.procs. */
static int join_v1_thread(const char *procs_path) {
  char dir[PATH_MAX], tasks[PATH_MAX];
  struct statfs sf;
  if (dir_of(procs_path, dir, sizeof dir) < 0) return -1;
  if (strcmp(procs_path + strlen(dir), "/cgroup.procs") != 0) return -1;
  if (statfs(dir, &sf) < 0 || sf.f_type != CGROUP_SUPER_MAGIC) return -1;
  if ((size_t)snprintf(tasks, sizeof tasks, "%s/tasks", dir) >= sizeof tasks) return -1;
  return write_file(tasks, "0");
}

/* Join the listed cgroups, skipping `skip` (the entry handled by
 * CLONE_INTO_CGROUP; pass (size_t)-1 for none): v1 by moving our only
 * thread, anything else (or if that fails) by writing our pid to
 * cgroup.procs, which also reports the error. */
void cgroup_join_self(const struct spec *s, size_t skip) {
  char pid[32];
  snprintf(pid, sizeof pid, "%d", (int)getpid());
  for (size_t i = 0; i < s->cgroup_procs.n; i++) {
    if (i == skip) continue;
    if (join_v1_thread(s->cgroup_procs.v[i]) == 0) continue;
    if (write_file(s->cgroup_procs.v[i], pid) < 0)
      fail_errno(EXIT_HELPER, "join cgroup (write %s to %s)", pid, s->cgroup_procs.v[i]);
  }
  if (s->cgroup_procs.n) trace("cgroup-joined");
}

/* Our own copy of the kernel's struct (v2, with .cgroup) so old headers
 * still build. */
struct clone_args_v2 {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
  uint64_t stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

/* fork()-like clone: the child continues on a copy of our stack. clone3 is
 * needed for CLONE_INTO_CGROUP and for CLONE_NEWTIME (whose value overlaps
 * the exit-signal byte of clone(2)); without clone3 we fall back to clone
 * plus unshare(CLONE_NEWTIME), which moves our future children instead. */
pid_t clone_child(unsigned long flags, int cgroup_fd) {
  struct clone_args_v2 args;
  memset(&args, 0, sizeof args);
  args.flags = flags | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
  /* With CLONE_PARENT the child inherits our exit signal; clone3 wants 0. */
  args.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
  args.cgroup = cgroup_fd >= 0 ? (uint64_t)cgroup_fd : 0;
  /* TSTOP_HELPER_NO_CLONE3=1 takes the old-kernel path (for tests). */
  static int no_clone3 = -1;
  if (no_clone3 < 0) no_clone3 = getenv("TSTOP_HELPER_NO_CLONE3") != NULL;
  long pid = -1;
  errno = ENOSYS;
  if (!no_clone3) pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid >= 0 || cgroup_fd >= 0 || (errno != ENOSYS && errno != E2BIG)) return (pid_t)pid;

  if ((flags & CLONE_NEWTIME) && unshare(CLONE_NEWTIME) < 0) return -1;
  return (pid_t)syscall(SYS_clone, (flags & ~(unsigned long)CLONE_NEWTIME) | ((flags & CLONE_PARENT) ? 0 : SIGCHLD),
                        NULL, NULL, NULL, NULL);
}


/* Whether any cgroup besides `skip` (the CLONE_INTO_CGROUP entry) must be
 * joined by writing. */
int cgroup_needs_join(const struct spec *s, size_t skip) {
  for (size_t i = 0; i < s->cgroup_procs.n; i++)
    if (i != skip) return 1;
  return 0;
}

/* Create a child that starts inside the spec's cgroups while the helper
 * stays outside them. A placer process is forked: it joins the cgroups
 * (cgroup_join_self: on v1 by moving its only thread, which is fast), runs
 * `before` (exec mode enters the namespaces there), creates the child with
 * CLONE_PARENT, so that the child's parent is the helper (it reaps it,
 * relays its signals, and the child's PDEATHSIG follows it), passes the
 * child's pid back and exits. Returns the child's pid in the helper and 0
 * in the child. A failure in the placer is reported by the placer (stderr,
 * report fd); the helper then exits with its code. */
pid_t spawn_placed(const struct spec *s, size_t skip, int cgroup_fd, unsigned long flags, void (*before)(void *),
                   void *arg) {
  int pp[2];
  if (pipe2(pp, O_CLOEXEC) < 0) fail_errno(EXIT_HELPER, "pipe2");
  pid_t placer = fork();
  if (placer < 0) fail_errno(EXIT_HELPER, "fork");
  if (placer == 0) {
    set_role("placer");
    close(pp[0]);
    cgroup_join_self(s, skip);
    if (before) before(arg);
    pid_t pid = clone_child(flags | CLONE_PARENT, cgroup_fd);
    if (pid < 0 && cgroup_fd >= 0) {
      const char *path = s->cgroup_procs.v[skip];
      char self[32];
      snprintf(self, sizeof self, "%d", (int)getpid());
      if (write_file(path, self) < 0) fail_errno(EXIT_HELPER, "join cgroup (write %s to %s)", self, path);
      pid = clone_child(flags | CLONE_PARENT, -1);
    }
    if (pid < 0) fail_errno(EXIT_HELPER, "clone3(namespaces %#lx)", flags);
    if (pid == 0) {
      close(pp[1]);
      if (cgroup_fd >= 0) close(cgroup_fd);
      return 0;
    }
    ssize_t n = write(pp[1], &pid, sizeof pid);
    _exit(n == (ssize_t)sizeof pid ? 0 : EXIT_HELPER);
  }
  close(pp[1]);
  if (cgroup_fd >= 0) close(cgroup_fd);
  pid_t pid = -1;
  ssize_t n;
  do n = read(pp[0], &pid, sizeof pid);
  while (n < 0 && errno == EINTR);
  close(pp[0]);
  int status = 0;
  while (waitpid(placer, &status, 0) < 0 && errno == EINTR) {
  }
  if (n != (ssize_t)sizeof pid) {
    /* The placer failed and has said why. */
    exit(WIFEXITED(status) && WEXITSTATUS(status) ? WEXITSTATUS(status) : EXIT_HELPER);
  }
  trace("placed");
  return pid;
}
