/* Resource limits and OOM score of the workload, so it inherits neither
 * from whoever ran tstop (a caller at oom_score_adj -900 would shield the
 * container from the OOM killer).
 *
 *   rlimit=NAME SOFT HARD       NAME as in RLIMIT_<NAME> lower case; "unlimited"
 *   oom_score_adj=N             -1000..1000 */
#include "helper.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static const struct {
  const char *name;
  int resource;
} k_rlimits[] = {
    {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},       {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},     {"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},     {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},   {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

static rlim_t parse_limit(const char *rec, const char *v) {
  if (strcmp(v, "unlimited") == 0) return RLIM_INFINITY;
  char *end;
  errno = 0;
  unsigned long long x = strtoull(v, &end, 10);
  if (errno || end == v || *end || v[0] == '-') fail(EXIT_HELPER, "spec: rlimit=%s: bad value \"%s\"", rec, v);
  return (rlim_t)x;
}

static void parse(const char *rec, int *resource, struct rlimit *lim) {
  char name[16], soft[32], hard[32], tail;
  if (sscanf(rec, "%15s %31s %31s %c", name, soft, hard, &tail) != 3)
    fail(EXIT_HELPER, "spec: rlimit=%s: expected NAME SOFT HARD", rec);
  *resource = -1;
  for (size_t i = 0; i < sizeof k_rlimits / sizeof k_rlimits[0]; i++)
    if (strcmp(name, k_rlimits[i].name) == 0) *resource = k_rlimits[i].resource;
  if (*resource < 0) fail(EXIT_HELPER, "spec: rlimit=%s: unknown limit \"%s\"", rec, name);
  lim->rlim_cur = parse_limit(rec, soft);
  lim->rlim_max = parse_limit(rec, hard);
  if (lim->rlim_cur > lim->rlim_max) fail(EXIT_HELPER, "spec: rlimit=%s: soft above hard", rec);
}

void limits_check(const struct spec *s) {
  for (size_t i = 0; i < s->rlimits.n; i++) {
    int r;
    struct rlimit l;
    parse(s->rlimits.v[i], &r, &l);
  }
}

/* In the workload's process, before the credential switch: raising a hard
 * limit needs CAP_SYS_RESOURCE; the kernel's EPERM fails the launch rather
 * than running with other limits. */
void limits_apply(const struct spec *s) {
  for (size_t i = 0; i < s->rlimits.n; i++) {
    int r;
    struct rlimit l;
    parse(s->rlimits.v[i], &r, &l);
    if (setrlimit(r, &l) < 0) fail_errno(EXIT_HELPER, "setrlimit(%s)", s->rlimits.v[i]);
  }
}

/* In the helper itself, on the host's /proc, before it forks anything: the
 * value is inherited by every child (a container's /proc/self of a
 * non-dumpable process in a user namespace is not writable by its root).
 * Lowering it below the caller's needs CAP_SYS_RESOURCE. */
void oom_score_apply(const struct spec *s) {
  if (s->has_oom_score_adj) {
    char v[16];
    snprintf(v, sizeof v, "%d", s->oom_score_adj);
    if (write_file("/proc/self/oom_score_adj", v) < 0) fail_errno(EXIT_HELPER, "write %s to /proc/self/oom_score_adj", v);
  }
}
