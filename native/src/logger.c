/* A detached container's log, capped and rotated (`log_path=`,
 * `log_max_bytes=`, `log_max_files=`; tstop run --log-opt max-size/max-file).
 * The helper forks a logger before the workload exists and points its own
 * stdout and stderr (which the workload inherits) at two pipes; the logger
 * writes what arrives as CRI log records, the format kubelet reads
 * (https://github.com/kubernetes/design-proposals-archive/blob/main/node/kubelet-cri-logging.md):
 *
 *   2026-12-06T03:12:00.123456789Z stdout F one whole line
 *   2026-12-06T03:12:00.123456789Z stderr P a line's start (no newline yet)
 *
 * The time is when the logger read the bytes (UTC, nanoseconds, fixed width);
 * F ends a line (its newline is not stored), P is a piece of a line that
 * goes on in the stream's next record: a line longer than MAX_RECORD_TEXT,
 * or bytes without a newline when the logger read them (a prompt), so
 * `tstop logs -f` shows them at once. `tstop logs` prints only the text.
 *
 * Before a record would take the file past log_max_bytes it renames
 * path -> path.1 -> ... -> path.(max_files-1) (the oldest dropped) and
 * starts a new file; with one file it truncates. Records are never split
 * across files, so the log never holds more than max_bytes x max_files on
 * /run. The logger stays outside the container's cgroups (like docker's
 * daemon-side log driver) and ends at EOF on both pipes, once the helper
 * and every process of the container have closed them. */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_RECORD_TEXT 16384 /* kubelet's limit per record too */
#define STAMP_LEN 30          /* 2026-12-06T03:12:00.123456789Z */
#define HEADER_LEN (STAMP_LEN + 10) /* stamp, " stdout F " */

/* Records are gathered and written once per read from the pipes (a
 * write per line cost a third of the throughput). */
#define OUT_BYTES (128 * 1024)

struct logfile {
  const struct spec *s;
  int fd;
  long long size; /* of the file, the gathered bytes included */
  char out[OUT_BYTES];
  size_t used;
};

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

static void stamp_now(char out[STAMP_LEN + 1]) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  char text[64];
  size_t n = strftime(text, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(text + n, sizeof text - n, ".%09dZ", (int)(ts.tv_nsec % 1000000000L));
  memcpy(out, text, STAMP_LEN); /* fixed width through the year 9999 */
  out[STAMP_LEN] = '\0';
}

/* The longest text of one record: what fits in the cap with its header
 * (a cap below one header still gets records of 16 bytes). */
static size_t text_max(const struct spec *s) {
  long long room = s->log_max_bytes - HEADER_LEN - 1;
  if (room < 16) room = 16;
  return room < MAX_RECORD_TEXT ? (size_t)room : MAX_RECORD_TEXT;
}

static void flush_out(struct logfile *lf) {
  write_all(lf->fd, lf->out, lf->used);
  lf->used = 0;
}

static void emit(struct logfile *lf, const char *stamp, const char *stream, char tag, const char *text, size_t n) {
  size_t len = HEADER_LEN + n + 1;
  if (lf->size > 0 && lf->size + (long long)len > lf->s->log_max_bytes) {
    flush_out(lf);
    close(lf->fd);
    if (lf->s->log_max_files > 1) rotate(lf->s);
    lf->fd = open_log(lf->s->log_path, 1);
    lf->size = 0;
  }
  if (lf->used + len > OUT_BYTES) flush_out(lf);
  char *rec = lf->out + lf->used;
  memcpy(rec, stamp, STAMP_LEN);
  rec[STAMP_LEN] = ' ';
  memcpy(rec + STAMP_LEN + 1, stream, 6);
  rec[STAMP_LEN + 7] = ' ';
  rec[STAMP_LEN + 8] = tag;
  rec[STAMP_LEN + 9] = ' ';
  memcpy(rec + HEADER_LEN, text, n);
  rec[HEADER_LEN + n] = '\n';
  lf->used += len;
  lf->size += (long long)len;
}

/* One read's bytes as records: each newline ends an F record; what is left
 * (and any piece longer than a record holds) goes out as P. */
static void log_chunk(struct logfile *lf, const char *stream, const char *buf, size_t n) {
  char stamp[STAMP_LEN + 1];
  stamp_now(stamp);
  size_t max = text_max(lf->s);
  while (n > 0) {
    const char *nl = memchr(buf, '\n', n);
    size_t line = nl ? (size_t)(nl - buf) : n;
    if (line > max) {
      emit(lf, stamp, stream, 'P', buf, max);
      buf += max;
      n -= max;
      continue;
    }
    emit(lf, stamp, stream, nl ? 'F' : 'P', buf, line);
    buf += line + (nl ? 1 : 0);
    n -= line + (nl ? 1 : 0);
  }
  flush_out(lf);
}

/* Keeps a pipe end clear of 0-2, which the logger points at /dev/null. */
static int above_stdio(int fd) {
  if (fd > 2) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (moved < 0) fail_errno(EXIT_HELPER, "fcntl(F_DUPFD) (log pipe)");
  return moved;
}

static void logger_loop(const struct spec *s, int out_fd, int err_fd) __attribute__((noreturn));
static void logger_loop(const struct spec *s, int out_fd, int err_fd) {
  static struct logfile lf;
  lf.s = s;
  lf.fd = open_log(s->log_path, 0);
  struct stat st;
  lf.size = fstat(lf.fd, &st) == 0 ? (long long)st.st_size : 0;
  static char buf[65536];
  int fds[2] = {out_fd, err_fd};
  const char *names[2] = {"stdout", "stderr"};
  while (fds[0] >= 0 || fds[1] >= 0) {
    struct pollfd p[2] = {{.fd = fds[0], .events = POLLIN}, {.fd = fds[1], .events = POLLIN}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      _exit(0);
    }
    for (int i = 0; i < 2; i++) {
      if (fds[i] < 0 || !p[i].revents) continue;
      ssize_t n = read(fds[i], buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        close(fds[i]);
        fds[i] = -1; /* poll ignores a negative fd */
        continue;
      }
      log_chunk(&lf, names[i], buf, (size_t)n);
    }
  }
  _exit(0);
}

void start_logger(const struct spec *s) {
  if (!s->log_path) return;
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) fail_errno(EXIT_HELPER, "pipe2 (log)");
  pid_t pid = fork();
  if (pid < 0) fail_errno(EXIT_HELPER, "fork (logger)");
  if (pid == 0) {
    set_role("logger");
    close(out[1]);
    close(err[1]);
    /* The report fd stays open, unused: its flock (supervisor.c) is
     * released only when the logger is gone too, which tells `tstop logs
     * -f` the log is complete. */
    g_report_fd = -1;
    /* Only EOF ends it: the terminal's and tstop stop's signals are for the container. */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    out[0] = above_stdio(out[0]);
    err[0] = above_stdio(err[0]);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull >= 0) {
      dup2(devnull, 0);
      dup2(devnull, 1);
      dup2(devnull, 2);
    }
    logger_loop(s, out[0], err[0]);
  }
  close(out[0]);
  close(err[0]);
  if (dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0) fail_errno(EXIT_HELPER, "dup2 (log pipe)");
  close(out[1]);
  close(err[1]);
  trace("logger-started");
}
