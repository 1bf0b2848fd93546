/* exec mode (like docker exec / nsenter): run a command inside the
 * namespaces, cgroups and root of a running container process. */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* setns order: the user namespace first (it grants the capabilities needed
 * for the others), the mount namespace last (after it, /proc/<pid> paths
 * and our root change meaning). */
static const struct {
  const char *name;
  int type;
} k_order[] = {
    {"user", CLONE_NEWUSER}, {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
    {"net", CLONE_NEWNET},   {"pid", CLONE_NEWPID},       {"time", CLONE_NEWTIME}, {"mnt", CLONE_NEWNS},
};
#define NNS (sizeof k_order / sizeof k_order[0])

static int same_file(int fd, const char *path) {
  struct stat a, b;
  return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Open every namespace (and the root) up front, while /proc/<pid> still
 * means the host's view. Namespaces we already share are skipped: joining
 * one's own user namespace is EINVAL, the others would be no-ops. */
static void open_namespaces(pid_t pid, int fds[NNS], int *root_fd) {
  for (size_t i = 0; i < NNS; i++) {
    char path[64], self[64];
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, k_order[i].name);
    snprintf(self, sizeof self, "/proc/self/ns/%s", k_order[i].name);
    fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) {
      if (errno == ENOENT && access(self, F_OK) < 0) continue; /* kernel without it */
      fail_errno(EXIT_HELPER, "open %s", path);
    }
    if (same_file(fds[i], self)) {
      close(fds[i]);
      fds[i] = -1;
    }
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/root", (int)pid);
  *root_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*root_fd < 0) fail_errno(EXIT_HELPER, "open %s", path);
}

static void join_namespaces(pid_t pid, int fds[NNS], int root_fd) {
  for (size_t i = 0; i < NNS; i++) {
    if (fds[i] < 0) continue;
    if (setns(fds[i], k_order[i].type) < 0) fail_errno(EXIT_HELPER, "setns(%s of pid %d)", k_order[i].name, (int)pid);
    close(fds[i]);
  }
  /* setns(mnt) put us at that namespace's root, which is not the
   * container's root after its pivot_root: take the target's own root. */
  if (fchdir(root_fd) < 0) fail_errno(EXIT_HELPER, "fchdir(/proc/%d/root)", (int)pid);
  if (chroot(".") < 0) fail_errno(EXIT_HELPER, "chroot(/proc/%d/root)", (int)pid);
  close(root_fd);
  trace("setns-done");
}

struct ns_args {
  pid_t pid;
  int *fds;
  int root_fd;
};

static void enter_namespaces(void *arg) {
  struct ns_args *a = arg;
  join_namespaces(a->pid, a->fds, a->root_fd);
}

int exec_mode(const struct spec *s) {
  int fds[NNS], root_fd, err[2], life[2], tty[2] = {-1, -1};
  open_namespaces(s->target_pid, fds, &root_fd);
  if (pipe2(err, O_CLOEXEC) < 0 || pipe2(life, O_CLOEXEC) < 0) fail_errno(EXIT_HELPER, "pipe2");
  if (s->tty && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, tty) < 0)
    fail_errno(EXIT_HELPER, "socketpair");
  block_signals();
  /* The placer joins the cgroups first (their paths are host paths, and
   * after setns(user) it may no longer be allowed to write them), then the
   * namespaces and root, and creates the workload as the helper's child:
   * a new PID namespace applies to children only. The helper itself stays
   * outside the container's cgroups and namespaces. */
  struct ns_args a = {.pid = s->target_pid, .fds = fds, .root_fd = root_fd};
  pid_t pid = spawn_placed(s, (size_t)-1, -1, 0, enter_namespaces, &a);
  if (pid == 0) {
    set_role("workload");
    close(err[0]);
    close(life[1]);
    if (tty[0] >= 0) close(tty[0]);
    g_err_fd = err[1];
    g_lifeline_fd = life[0];
    if (tty[1] >= 0) tty_setup_child(tty[1]);
    enter_workdir(s);
    drop_privileges(s);
    exec_workload(s);
  }
  trace("fork");
  for (size_t i = 0; i < NNS; i++)
    if (fds[i] >= 0) close(fds[i]);
  close(root_fd);
  close(err[1]);
  close(life[0]); /* life[1] stays open until we exit */
  if (tty[1] >= 0) close(tty[1]);
  int master = tty[0] >= 0 ? tty_receive_master(tty[0]) : -1;
  struct relay r = {.child = pid, .err_rd = err[0], .master = master};
  return relay_until_exit(&r);
}
