/* tstop-helper entry point plus the small utilities every step uses:
 * error reporting (with the step and errno name), tracing, file writes. */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HELPER_VERSION "1"

int g_err_fd = -1;
int g_report_fd = -1;
static int g_trace_fd = -1;
static const char *g_role = "helper";

/* Error messages travel from a child to the parent as one fixed-size record
 * (struct errmsg) on a CLOEXEC pipe: one write() below PIPE_BUF is atomic,
 * and a successful execve closes the pipe, which the parent reads as
 * "started". */
static void emit_failure(int code, const char *text) {
  if (g_err_fd >= 0) {
    struct errmsg m = {.code = code};
    snprintf(m.text, sizeof m.text, "%s", text);
    ssize_t n = write(g_err_fd, &m, sizeof m);
    (void)n;
    _exit(code);
  }
  dprintf(STDERR_FILENO, "tstop-helper: %s\n", text);
  report("error=%s", text);
  report("exit=%d", code);
  exit(code);
}

static const char *errno_name(int e) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *n = strerrorname_np(e);
  if (n) return n;
#endif
  static char buf[24];
  snprintf(buf, sizeof buf, "errno %d", e);
  return buf;
}

void fail(int code, const char *fmt, ...) {
  char text[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  emit_failure(code, text);
  _exit(code); /* not reached */
}

/* "step(arg): Invalid argument (EINVAL)" */
void fail_errno(int code, const char *fmt, ...) {
  int e = errno;
  char step[700], text[1000];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(step, sizeof step, fmt, ap);
  va_end(ap);
  snprintf(text, sizeof text, "%s: %s (%s)", step, strerror(e), errno_name(e));
  emit_failure(code, text);
  _exit(code); /* not reached */
}

void warnx_(const char *fmt, ...) {
  char text[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  dprintf(g_trace_fd >= 0 ? g_trace_fd : STDERR_FILENO, "tstop-helper: warning: %s\n", text);
}

/* TSTOP_HELPER_TRACE=1 prints CLOCK_MONOTONIC stamps (the clock Node's
 * process.hrtime uses) so bench/launch-helper.mjs can split the launch time
 * into phases. The fd is a CLOEXEC copy of stderr so a pty on fd 2 in the
 * child does not swallow it. */
void trace_init(void) {
  const char *v = getenv("TSTOP_HELPER_TRACE");
  if (v && *v && strcmp(v, "0") != 0)
    g_trace_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
}

void trace(const char *event) {
  if (g_trace_fd < 0) return;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  dprintf(g_trace_fd, "tstop-helper-trace %lld %s %s\n",
          (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, g_role, event);
}

void set_role(const char *role) { g_role = role; }

void report(const char *fmt, ...) {
  if (g_report_fd < 0) return;
  char line[1100];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n > sizeof line - 2) n = sizeof line - 2;
  line[n++] = '\n';
  ssize_t w = write(g_report_fd, line, (size_t)n);
  (void)w;
}

/* Write a whole string to an existing file (cgroup.procs, uid_map...).
 * Returns 0 or -1 with errno set. */
int write_file(const char *path, const char *data) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t len = strlen(data);
  ssize_t n = write(fd, data, len);
  int e = errno;
  close(fd);
  if (n < 0) {
    errno = e;
    return -1;
  }
  if ((size_t)n != len) {
    errno = EIO;
    return -1;
  }
  return 0;
}

void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) fail(EXIT_HELPER, "out of memory");
  return p;
}

void strlist_push(struct strlist *l, char *s) {
  char **v = realloc(l->v, (l->n + 2) * sizeof *v);
  if (!v) fail(EXIT_HELPER, "out of memory");
  v[l->n++] = s;
  v[l->n] = NULL; /* keep it usable as an argv/envp array */
  l->v = v;
}

/* The signals the helper and the init handle synchronously (signalfd /
 * sigwaitinfo). Children must undo this before exec. */
static void relay_sigset(sigset_t *set) {
  sigemptyset(set);
  int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGPIPE};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(set, sigs[i]);
}

void block_signals(void) {
  sigset_t set;
  relay_sigset(&set);
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) fail_errno(EXIT_HELPER, "sigprocmask");
}

/* Give the workload a clean signal state: nothing blocked, default actions. */
void reset_signals(void) {
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    signal(sig, SIG_DFL);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Shell convention: exit code n, or 128+signal when killed. */
int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return EXIT_HELPER;
}

static void usage(void) {
  dprintf(STDERR_FILENO,
          "usage: tstop-helper [--spec-fd N | --spec-file PATH]\n"
          "       tstop-helper --version\n"
          "Reads a NUL-separated key=value spec (default from fd 3) and runs\n"
          "or enters a container; see native/README.md.\n");
}

int main(int argc, char **argv) {
  int spec_fd = 3;
  const char *spec_file = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--version") == 0) {
      printf("tstop-helper %s\n", HELPER_VERSION);
      return 0;
    } else if (strcmp(argv[i], "--spec-fd") == 0 && i + 1 < argc) {
      spec_fd = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--spec-file") == 0 && i + 1 < argc) {
      spec_file = argv[++i];
    } else {
      usage();
      return EXIT_HELPER;
    }
  }
  trace_init();
  /* Before anything touches a container (spec parsing included). */
  reexec_sealed(argv);
  trace("start");
  if (spec_file) {
    spec_fd = open(spec_file, O_RDONLY | O_CLOEXEC);
    if (spec_fd < 0) fail_errno(EXIT_HELPER, "open spec file %s", spec_file);
  }

  struct spec s;
  spec_read(spec_fd, &s);
  close(spec_fd);
  owner_init(&s); /* from here a failure removes what tstop prepared (owner.c) */
  trace("spec-parsed");

  /* The report fd is tstop's, not the workload's. */
  if (g_report_fd >= 0 && fcntl(g_report_fd, F_SETFD, FD_CLOEXEC) < 0)
    fail_errno(EXIT_HELPER, "report fd %d", g_report_fd);
  oom_score_apply(&s);

  return s.mode == MODE_RUN ? run_mode(&s) : exec_mode(&s);
}
