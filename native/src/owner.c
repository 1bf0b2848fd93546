/* The helper as the owner of a foreground container (`tstop run` without -d):
 * tstop prepares everything (checks, state file, cgroup, spec) and then execs
 * the helper in its own place (src/launcher/run.ts), so Node neither spawns,
 * waits nor exits. What tstop did after the workload ended is done here:
 *
 *   started   the state file says "running", with the workload's pid
 *   ended     OOM kills read, the cgroup removed (what is left inside killed
 *             first), the state says "exited" with the exit code, or with
 *             --rm the state file is gone
 *   failed    nothing started (a setup step or the exec failed): the cgroup
 *             and the state file are removed, as tstop's own undo does
 *
 * Every path comes from tstop's spec (state_file=, owner_remove=, oom_file=,
 * cgroup_procs=), none from the container. The state is tstop's JSON up to
 * the fields only the helper knows (state_json=, without its closing brace);
 * the helper appends them and replaces the file atomically (a new file,
 * O_EXCL|O_NOFOLLOW, then rename), as tstop's writeState does. */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REMOVE_TIMEOUT_MS 5000LL

static const struct spec *g_owned; /* NULL: tstop owns the container (spawned helper, -d) */
static pid_t g_pid;                /* the workload's, once it started */
static long long g_pid_start = -1;
static char g_started[48];
static int g_finished;
static pid_t g_owner_pid;

/* ISO 8601 in UTC with milliseconds, as JavaScript's toISOString(). */
static void iso_now(char *out, size_t size) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  char base[32];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, size, "%.24s.%03dZ", base, (int)(ts.tv_nsec / 1000000));
}

/* Field 22 of /proc/PID/stat (clock ticks since boot), as state.ts processStart reads it. */
static long long process_start(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  if (!p) return -1;
  p += 2; /* field 3 */
  for (int field = 3; field < 22 && p; field++) {
    p = strchr(p, ' ');
    if (p) p++;
  }
  return p ? strtoll(p, NULL, 10) : -1;
}

static long long oom_kills(const struct spec *s) {
  if (!s->owner_oom_file) return -1;
  char buf[2048];
  int fd = open(s->owner_oom_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
    if (strncmp(line, "oom_kill ", 9) == 0) return strtoll(line + 9, NULL, 10);
  return -1;
}

/* state_json= plus the fields the helper knows, written beside the state file and renamed over it. */
static void write_state(const struct spec *s, const char *tail) {
  char tmp[PATH_MAX];
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.%d.tmp", s->owner_state_file, (int)getpid()) >= sizeof tmp) return;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    warnx_("write %s: %s", tmp, strerror(errno));
    return;
  }
  size_t a = strlen(s->owner_state_json), b = strlen(tail);
  int ok = write(fd, s->owner_state_json, a) == (ssize_t)a && write(fd, tail, b) == (ssize_t)b;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp, s->owner_state_file) < 0) {
    warnx_("write %s: %s", s->owner_state_file, strerror(errno));
    unlink(tmp);
  }
}

static void remove_files(const struct spec *s) {
  if (unlink(s->owner_state_file) < 0 && errno != ENOENT) warnx_("unlink %s: %s", s->owner_state_file, strerror(errno));
  for (size_t i = 0; i < s->owner_remove.n; i++) unlink(s->owner_remove.v[i]);
}

static long long monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SIGKILL to what is left in a cgroup directory (its cgroup.procs, tstop's path). */
static void kill_procs(const char *procs_path) {
  FILE *f = fopen(procs_path, "re");
  if (!f) return;
  long pid;
  while (fscanf(f, "%ld", &pid) == 1)
    if (pid > 0 && pid != getpid()) kill((pid_t)pid, SIGKILL);
  fclose(f);
}

/* rmdir of the container's directory in every hierarchy (each cgroup_procs=
 * minus its last component); processes still leaving (a PID namespace being
 * torn down) make it EBUSY for a moment, so anything inside is killed and
 * the rmdir retried for up to 5 s, as destroyCgroup does. Returns 0, or -1
 * after printing why. */
static int remove_cgroup(const struct spec *s) {
  long long deadline = monotonic_ms() + REMOVE_TIMEOUT_MS;
  int failed = 0;
  for (size_t i = 0; i < s->cgroup_procs.n; i++) {
    const char *procs = s->cgroup_procs.v[i];
    const char *slash = strrchr(procs, '/');
    char dir[PATH_MAX];
    if (!slash || strcmp(slash, "/cgroup.procs") != 0 || (size_t)(slash - procs) >= sizeof dir) continue;
    memcpy(dir, procs, (size_t)(slash - procs));
    dir[slash - procs] = '\0';
    for (int attempt = 0;; attempt++) {
      if (rmdir(dir) == 0 || errno == ENOENT) break;
      int e = errno;
      if ((e != EBUSY && e != ENOTEMPTY) || monotonic_ms() > deadline) {
        dprintf(STDERR_FILENO, "tstop: run: cannot remove the cgroup %s: %s (%s)\n", dir, strerror(e),
                e == EBUSY ? "EBUSY" : e == ENOTEMPTY ? "ENOTEMPTY" : "rmdir");
        failed = 1;
        break;
      }
      kill_procs(procs);
      struct timespec t = {.tv_sec = 0, .tv_nsec = (attempt < 10 ? 2 : 20) * 1000000L};
      nanosleep(&t, NULL);
    }
  }
  return failed ? -1 : 0;
}

/* A step failed and exit() runs (fail() in the helper's own process): before
 * the start, undo what tstop prepared; after it, record the end as 125. */
static void undo_at_exit(void) {
  if (!g_owned || g_finished || getpid() != g_owner_pid) return; /* a forked child's exit is not ours */
  owner_finish(EXIT_HELPER);
}

void owner_init(const struct spec *s) {
  if (!s->owner_state_file) return;
  g_owned = s;
  g_owner_pid = getpid();
  atexit(undo_at_exit);
  if (s->owner_stdin_null) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || (fd != STDIN_FILENO && dup2(fd, STDIN_FILENO) < 0)) fail_errno(EXIT_HELPER, "open /dev/null as stdin");
    if (fd != STDIN_FILENO) close(fd);
    else fcntl(fd, F_SETFD, 0);
  }
}

void owner_started(pid_t pid) {
  if (!g_owned) return;
  g_pid = pid;
  g_pid_start = process_start(pid);
  iso_now(g_started, sizeof g_started);
  char tail[256];
  snprintf(tail, sizeof tail,
           ",\"pid\":%d,\"pidStart\":%lld,\"started\":\"%s\",\"finished\":null,\"status\":\"running\","
           "\"exitCode\":null,\"error\":null,\"oomKills\":null}\n",
           (int)pid, g_pid_start, g_started);
  write_state(g_owned, tail);
}

int owner_finish(int code) {
  if (!g_owned || g_finished) return code;
  g_finished = 1;
  const struct spec *s = g_owned;
  int started = g_pid > 0;
  long long ooms = started ? oom_kills(s) : -1;
  remove_cgroup(s);
  if (!started || s->owner_auto_remove) {
    remove_files(s);
    trace("owner-done");
    return code;
  }
  char finished[48], oom[24], pid_start[24], tail[320];
  iso_now(finished, sizeof finished);
  if (ooms >= 0) snprintf(oom, sizeof oom, "%lld", ooms);
  else snprintf(oom, sizeof oom, "null");
  if (g_pid_start >= 0) snprintf(pid_start, sizeof pid_start, "%lld", g_pid_start);
  else snprintf(pid_start, sizeof pid_start, "null");
  snprintf(tail, sizeof tail,
           ",\"pid\":%d,\"pidStart\":%s,\"started\":\"%s\",\"finished\":\"%s\",\"status\":\"exited\","
           "\"exitCode\":%d,\"error\":null,\"oomKills\":%s}\n",
           (int)g_pid, pid_start, g_started, finished, code, oom);
  write_state(s, tail);
  trace("owner-done");
  return code;
}
