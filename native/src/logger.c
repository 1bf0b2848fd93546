/* A detached container's log, capped and rotated (`log_path=`,
 * `log_max_bytes=`, `log_max_files=`; tstop run --log-opt max-size/max-file).
 * The helper forks a logger before the workload exists and points its own
 * stdout and stderr (which the workload inherits) at a pipe; the logger
 * copies the pipe into log_path, and when the next bytes would take the file
 * past log_max_bytes it renames path -> path.1 -> ... -> path.(max_files-1)
 * (the oldest dropped) and starts a new file; with one file it truncates.
 * So the log never holds more than max_bytes x max_files on /run. The
 * logger stays outside the container's cgroups (like docker's daemon-side
 * log driver) and ends at EOF, once the helper and every process of the
 * container have closed the pipe. */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

static int open_log(const char *path, int truncate) {
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0640);
  if (fd < 0) fail_errno(EXIT_HELPER, "open log %s", path);
  return fd;
}

static void rotate(const struct spec *s) {
  char from[PATH_MAX], to[PATH_MAX];
  for (long i = s->log_max_files - 1; i >= 1; i--) {
    if (i == 1) snprintf(from, sizeof from, "%s", s->log_path);
    else snprintf(from, sizeof from, "%s.%ld", s->log_path, i - 1);
    snprintf(to, sizeof to, "%s.%ld", s->log_path, i);
    if (rename(from, to) < 0 && errno != ENOENT) warnx_("log rotation: rename %s: %s", from, strerror(errno));
  }
}

static void write_all(int fd, const char *buf, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return; /* a full /run: drop rather than block the container */
    buf += w;
    n -= (size_t)w;
  }
}

static void logger_loop(const struct spec *s, int in) __attribute__((noreturn));
static void logger_loop(const struct spec *s, int in) {
  int out = open_log(s->log_path, 0);
  struct stat st;
  long long size = fstat(out, &st) == 0 ? (long long)st.st_size : 0;
  static char buf[65536];
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(0);
    for (const char *p = buf; n > 0;) {
      if (size >= s->log_max_bytes) {
        close(out);
        if (s->log_max_files > 1) rotate(s);
        out = open_log(s->log_path, 1);
        size = 0;
      }
      long long room = s->log_max_bytes - size;
      size_t chunk = (long long)n < room ? (size_t)n : (size_t)room;
      write_all(out, p, chunk);
      size += (long long)chunk;
      p += chunk;
      n -= (ssize_t)chunk;
    }
  }
}

void start_logger(const struct spec *s) {
  if (!s->log_path) return;
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) fail_errno(EXIT_HELPER, "pipe2 (log)");
  pid_t pid = fork();
  if (pid < 0) fail_errno(EXIT_HELPER, "fork (logger)");
  if (pid == 0) {
    set_role("logger");
    close(p[1]);
    if (g_report_fd >= 0) close(g_report_fd); /* the helper's to report on, not ours */
    g_report_fd = -1;
    /* Only EOF ends it: the terminal's and tstop stop's signals are for the container. */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    if (p[0] != 0) {
      dup2(p[0], 0);
      close(p[0]);
    }
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull >= 0) {
      dup2(devnull, 1);
      dup2(devnull, 2);
    }
    logger_loop(s, 0);
  }
  close(p[0]);
  if (dup2(p[1], 1) < 0 || dup2(p[1], 2) < 0) fail_errno(EXIT_HELPER, "dup2 (log pipe)");
  close(p[1]);
  trace("logger-started");
}
