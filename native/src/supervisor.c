/* The helper as the container's supervisor (tstop run -d --restart): when
 * the workload exits, start it again in fresh namespaces with the same spec
 * and cgroup, as docker's restart manager does:
 *   no               never (the default)
 *   on-failure[:N]   after a non-zero exit, at most N times (0: no limit)
 *   always           after any exit
 *   unless-stopped   the same as always here: docker's difference is only
 *                    whether the daemon's start at boot revives a stopped
 *                    container, and tstop has no daemon
 * Backoff: 100 ms before the first restart, doubling up to 1 minute, back to
 * 100 ms once a run lasted 10 s (docker's restartmanager constants).
 *
 * `tstop stop` creates stop_flag= before it signals PID 1: the supervisor
 * looks for it when the workload exits and every 100 ms of a backoff, and
 * ends instead of restarting. SIGTERM, SIGINT, SIGHUP or SIGQUIT to the
 * helper during a backoff (no workload to forward them to) end it too.
 *
 * Report lines (tstop ps): pid= at each start, exit= at each end, and
 * restart=K when restart K is scheduled (the container is "restarting"
 * until the next pid=). A detached helper (log_path=) holds an flock on the
 * report file for its whole life, shared with the logger; `tstop logs -f` ends when it is
 * free: the container has ended and its log is complete. */
#include "helper.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#define BACKOFF_FIRST_MS 100LL
#define BACKOFF_MAX_MS 60000LL
#define BACKOFF_RESET_MS 10000LL
#define STOP_POLL_MS 100LL

static long long monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int stop_requested(const struct spec *s) {
  struct stat st;
  return s->stop_flag && lstat(s->stop_flag, &st) == 0;
}

static int wants_restart(const struct spec *s, int code, long restarts) {
  switch (s->restart) {
    case RESTART_ALWAYS:
    case RESTART_UNLESS_STOPPED:
      return 1;
    case RESTART_ON_FAILURE:
      return code != 0 && (s->restart_max == 0 || restarts < s->restart_max);
    default:
      return 0;
  }
}

/* Waits ms; returns 0 when a stop came first. */
static int backoff(const struct spec *s, long long ms) {
  sigset_t stop, drop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGHUP);
  sigaddset(&stop, SIGQUIT);
  /* Signals for a workload that is not there: not to be forwarded to the next one. */
  sigemptyset(&drop);
  sigaddset(&drop, SIGUSR1);
  sigaddset(&drop, SIGUSR2);
  sigaddset(&drop, SIGWINCH);
  sigaddset(&drop, SIGPIPE);
  sigset_t any = stop;
  for (int sig = 1; sig < NSIG; sig++)
    if (sigismember(&drop, sig) == 1) sigaddset(&any, sig);
  long long deadline = monotonic_ms() + ms;
  for (;;) {
    if (stop_requested(s)) return 0;
    long long left = deadline - monotonic_ms();
    if (left <= 0) return 1;
    if (left > STOP_POLL_MS) left = STOP_POLL_MS;
    struct timespec t = {.tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000};
    int sig = sigtimedwait(&any, NULL, &t);
    if (sig > 0 && sigismember(&stop, sig) == 1) return 0;
  }
}

int supervise(const struct spec *s, int (*run_once)(const struct spec *, int *started)) {
  /* Best effort: without the lock `tstop logs -f` ends when the helper is gone. */
  if (s->log_path && g_report_fd >= 0 && flock(g_report_fd, LOCK_EX | LOCK_NB) < 0)
    warnx_("flock(report): %s", strerror(errno));
  long restarts = 0;
  long long delay = 0;
  for (;;) {
    long long began = monotonic_ms();
    int started = 0;
    int code = run_once(s, &started);
    /* A first start that failed is docker run's error, not a crash to retry. */
    if ((restarts == 0 && !started) || !wants_restart(s, code, restarts) || stop_requested(s)) return code;
    if (monotonic_ms() - began >= BACKOFF_RESET_MS) delay = 0;
    delay = delay == 0 ? BACKOFF_FIRST_MS : (delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2);
    restarts++;
    report("restart=%ld", restarts);
    trace("restart-backoff");
    if (!backoff(s, delay)) return code;
  }
}
