/* Per-process steps shared by run and exec mode: hostname, loopback,
 * credentials and capabilities, the exec itself, and the minimal init. */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

void set_hostname(const struct spec *s) {
  if (!s->hostname) return;
  if (sethostname(s->hostname, strlen(s->hostname)) < 0) fail_errno(EXIT_HELPER, "sethostname(%s)", s->hostname);
}

/* A new network namespace starts with lo down; most software expects
 * 127.0.0.1 to work. */
void bring_up_loopback(void) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail_errno(EXIT_HELPER, "socket(AF_INET) for lo");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) fail_errno(EXIT_HELPER, "ioctl(lo, SIOCGIFFLAGS)");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) fail_errno(EXIT_HELPER, "ioctl(lo, SIOCSIFFLAGS IFF_UP)");
  close(fd);
}

/* Inside a fresh user namespace our uid is unmapped (shown as 65534), and
 * an exec as non-root would lose every capability: become the namespace's
 * root when 0 is mapped. When it is not, keep going: the creator still
 * holds all capabilities in the namespace and user= decides later. */
void become_userns_root(void) {
  if (setresgid(0, 0, 0) < 0 && errno != EINVAL) fail_errno(EXIT_HELPER, "setresgid(0) in user namespace");
  if (setresuid(0, 0, 0) < 0 && errno != EINVAL) fail_errno(EXIT_HELPER, "setresuid(0) in user namespace");
}

void enter_workdir(const struct spec *s) {
  const char *cwd = s->cwd ? s->cwd : "/";
  if (chdir(cwd) < 0) fail_errno(EXIT_HELPER, "chdir(%s)", cwd);
}

static void drop_bounding_set(uint64_t keep) {
  /* PR_CAPBSET_READ fails with EINVAL past the kernel's last capability. */
  for (int cap = 0; cap < 64 && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
    if (keep & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) fail_errno(EXIT_HELPER, "prctl(PR_CAPBSET_DROP, %d)", cap);
  }
}

/* Supplementary groups first, then gid, then uid (after setuid we could
 * no longer change groups). KEEPCAPS keeps the permitted set across a
 * switch to a non-zero uid so capset() below can still grant the final set. */
static void switch_user(const struct spec *s) {
  uid_t uid = s->has_user ? s->uid : 0;
  gid_t gid = s->has_user ? s->gid : 0;
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail_errno(EXIT_HELPER, "prctl(PR_SET_KEEPCAPS, 1)");
  if (setgroups(s->ngroups, s->groups) < 0) {
    /* With setgroups=deny in a user namespace the call is EPERM; fine as
     * long as nobody asked for supplementary groups. */
    if (!(errno == EPERM && s->ngroups == 0)) fail_errno(EXIT_HELPER, "setgroups(%zu groups)", s->ngroups);
  }
  if (setresgid(gid, gid, gid) < 0) fail_errno(EXIT_HELPER, "setresgid(%u)", (unsigned)gid);
  if (setresuid(uid, uid, uid) < 0) fail_errno(EXIT_HELPER, "setresuid(%u)", (unsigned)uid);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fail_errno(EXIT_HELPER, "prctl(PR_SET_KEEPCAPS, 0)");
}

/* Raw capset(2): effective = permitted = the final set. The inheritable set
 * stays empty (as Docker since 20.10.14): with it, a non-root workload
 * running a binary with file capabilities would gain them. */
static void set_caps(uint64_t caps) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  for (int i = 0; i < 2; i++) {
    uint32_t word = (uint32_t)(caps >> (32 * i));
    data[i].effective = data[i].permitted = word;
  }
  if (syscall(SYS_capset, &hdr, data) < 0) fail_errno(EXIT_HELPER, "capset(%#llx)", (unsigned long long)caps);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    fail_errno(EXIT_HELPER, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
}

int g_lifeline_fd = -1;

/* PDEATHSIG only covers a parent that dies after it is set. The parent
 * holds the write end of the lifeline pipe until it exits, so a hang-up
 * here means it already died: do not start an orphaned workload. */
static void check_lifeline(void) {
  if (g_lifeline_fd < 0) return;
  struct pollfd p = {.fd = g_lifeline_fd, .events = POLLIN};
  if (poll(&p, 1, 0) > 0 && (p.revents & POLLHUP)) _exit(EXIT_HELPER);
  close(g_lifeline_fd);
  g_lifeline_fd = -1;
}

/* Order matters: the bounding set can only be shrunk while we still hold
 * CAP_SETPCAP, i.e. before the uid switch and capset. */
void drop_privileges(const struct spec *s) {
  limits_apply(s);
  drop_bounding_set(s->caps);
  /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which the
   * uid switch and capset below give up: load it now (the filter must then
   * allow setgroups, setres[ug]id, capset and prctl, as Docker's does). */
  if (!s->no_new_privs) seccomp_install();
  switch_user(s);
  set_caps(s->caps);
  if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    fail_errno(EXIT_HELPER, "prctl(PR_SET_NO_NEW_PRIVS)");
  /* If the helper dies, so does the workload (the helper is its only link
   * to tstop). Set last: credential changes clear it. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) fail_errno(EXIT_HELPER, "prctl(PR_SET_PDEATHSIG)");
  check_lifeline();
  seccomp_install(); /* last: after it only the profile's syscalls work */
  trace("privileges-dropped");
}

/* Make the pty slave our stdio and controlling terminal (new session). */
void become_tty_child(int slave_fd) {
  if (setsid() < 0) fail_errno(EXIT_HELPER, "setsid");
  if (ioctl(slave_fd, TIOCSCTTY, 0) < 0) fail_errno(EXIT_HELPER, "ioctl(TIOCSCTTY)");
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave_fd, fd) < 0) fail_errno(EXIT_HELPER, "dup2(pty, %d)", fd);
  if (slave_fd > 2) close(slave_fd);
}

static const char *env_path(const struct spec *s) {
  for (size_t i = 0; i < s->env.n; i++)
    if (strncmp(s->env.v[i], "PATH=", 5) == 0) return s->env.v[i] + 5;
  return DEFAULT_PATH;
}

/* execve, and like execvp run scripts without #! through /bin/sh. */
static void try_exec(const char *path, char **argv, char **envp) {
  execve(path, argv, envp);
  if (errno != ENOEXEC) return;
  size_t n = 0;
  while (argv[n]) n++;
  char **sh = xcalloc(n + 2, sizeof *sh);
  sh[0] = "/bin/sh";
  sh[1] = (char *)path;
  for (size_t i = 1; i < n; i++) sh[i + 1] = argv[i];
  execve("/bin/sh", sh, envp);
  errno = ENOEXEC;
}

/* execvp semantics, but with PATH taken from the workload's environment
 * (glibc's execvpe would use the helper's own PATH). */
void exec_workload(const struct spec *s) {
  char **argv = s->argv.v;
  char *empty[] = {NULL};
  char **envp = s->env.n ? s->env.v : empty;
  const char *file = argv[0];

  reset_signals();
  /* Only stdio reaches the workload; tstop's pipes (spec, report) and our
   * own fds are closed by exec. */
  syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  trace("exec");

  if (strchr(file, '/')) {
    try_exec(file, argv, envp);
    fail_errno(errno == ENOENT || errno == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC, "execve(%s)", file);
  }
  const char *path = env_path(s);
  int saw_eacces = 0;
  char buf[4096];
  for (const char *p = path;; p++) {
    const char *end = strchr(p, ':');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    /* An empty PATH element means the current directory. */
    int n = snprintf(buf, sizeof buf, "%.*s%s%s", (int)len, len ? p : ".", "/", file);
    if (n > 0 && (size_t)n < sizeof buf) {
      try_exec(buf, argv, envp);
      if (errno == EACCES) saw_eacces = 1;
      else if (errno != ENOENT && errno != ENOTDIR && errno != ENAMETOOLONG)
        fail_errno(EXIT_CANNOT_EXEC, "execvp(%s): %s", file, buf);
    }
    if (!end) break;
    p = end;
  }
  errno = saw_eacces ? EACCES : ENOENT;
  fail_errno(saw_eacces ? EXIT_CANNOT_EXEC : EXIT_NOT_FOUND, "execvp(%s)", file);
}

/* Minimal init (like tini / docker run --init): PID 1 of the namespace
 * forks the workload, reaps every zombie reparented to it, forwards the
 * usual signals to the workload, and exits with its status. The signals
 * are still blocked (inherited from the helper), so sigwaitinfo sees them. */
void run_init(const struct spec *s) {
  set_role("init");
  prctl(PR_SET_NAME, "tstop-init", 0, 0, 0); /* what ps shows inside */
  pid_t w = fork();
  if (w < 0) fail_errno(EXIT_HELPER, "fork workload (init)");
  if (w == 0) {
    set_role("workload");
    if (s->tty) {
      /* Own process group in the foreground, so ^C on the pty reaches
       * the workload directly rather than the init. */
      signal(SIGTTOU, SIG_IGN);
      if (setpgid(0, 0) < 0) fail_errno(EXIT_HELPER, "setpgid");
      if (tcsetpgrp(STDIN_FILENO, getpid()) < 0) fail_errno(EXIT_HELPER, "tcsetpgrp");
    }
    exec_workload(s);
  }
  /* The workload's copy of the error pipe tells the parent about exec; the
   * init's copy must go or the parent would wait for ever. */
  close(g_err_fd);
  g_err_fd = -1;

  sigset_t set;
  sigemptyset(&set);
  int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&set, sigs[i]);
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&set, &info);
    if (sig < 0) continue; /* EINTR */
    if (sig != SIGCHLD) {
      kill(w, sig);
      continue;
    }
    int status;
    pid_t p;
    while ((p = waitpid(-1, &status, WNOHANG)) > 0)
      if (p == w) _exit(exit_code_of(status)); /* the kernel kills the rest */
  }
}
