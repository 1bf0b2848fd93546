/* Spec parser. The spec is a sequence of NUL-terminated "key=value" records
 * (format in native/README.md). Lists are repeated keys. The first record
 * must be version=1 and the last end=1, so a truncated spec is rejected
 * instead of half-applied. Unknown keys are errors, not silently ignored. */
#include "helper.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPEC_MAX (4u << 20) /* 4 MiB: argv+env of any sane container */

static char *read_all(int fd, size_t *len) {
  size_t cap = 16384, n = 0;
  char *buf = xcalloc(cap, 1);
  for (;;) {
    if (n == cap) {
      if (cap >= SPEC_MAX) fail(EXIT_HELPER, "spec: larger than %u bytes", SPEC_MAX);
      cap *= 2;
      char *nb = realloc(buf, cap);
      if (!nb) fail(EXIT_HELPER, "out of memory");
      buf = nb;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail_errno(EXIT_HELPER, "read spec from fd %d", fd);
    if (r == 0) break;
    n += (size_t)r;
  }
  *len = n;
  return buf;
}

static long long parse_int(const char *key, const char *v, long long min, long long max) {
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (errno || end == v || *end || x < min || x > max)
    fail(EXIT_HELPER, "spec: %s=%s: not an integer in [%lld, %lld]", key, v, min, max);
  return x;
}

static int parse_bool(const char *key, const char *v) {
  if (strcmp(v, "1") == 0) return 1;
  if (strcmp(v, "0") == 0) return 0;
  fail(EXIT_HELPER, "spec: %s=%s: expected 0 or 1", key, v);
}

static void need_abs(const char *key, const char *v) {
  if (v[0] != '/') fail(EXIT_HELPER, "spec: %s=%s: must be an absolute path", key, v);
}

static unsigned long ns_flag(const char *v) {
  static const struct { const char *name; unsigned long flag; } t[] = {
      {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS},   {"uts", CLONE_NEWUTS},
      {"ipc", CLONE_NEWIPC},   {"net", CLONE_NEWNET},  {"pid", CLONE_NEWPID},
      {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (strcmp(v, t[i].name) == 0) return t[i].flag;
  fail(EXIT_HELPER, "spec: ns=%s: unknown namespace", v);
}

/* "uid[:gid]" */
static void parse_user(struct spec *s, char *v) {
  char *colon = strchr(v, ':');
  if (colon) *colon = '\0';
  s->uid = (uid_t)parse_int("user", v, 0, UINT32_MAX - 1);
  s->gid = colon ? (gid_t)parse_int("user", colon + 1, 0, UINT32_MAX - 1) : (gid_t)s->uid;
  s->has_user = 1;
}

/* "inside outside count": validated here so the parent's write to
 * uid_map fails only for kernel reasons. */
static void check_map(const char *key, const char *v) {
  unsigned long a, b, c;
  char tail;
  if (sscanf(v, "%lu %lu %lu%c", &a, &b, &c, &tail) != 3 || c == 0)
    fail(EXIT_HELPER, "spec: %s=%s: expected \"inside outside count\"", key, v);
}

/* "src:dst[:ro]" */
static void parse_volume(struct spec *s, char *v) {
  char *dst = strchr(v, ':');
  if (!dst) fail(EXIT_HELPER, "spec: mount=%s: expected SRC:DST[:ro]", v);
  *dst++ = '\0';
  int ro = 0;
  char *opt = strchr(dst, ':');
  if (opt) {
    *opt++ = '\0';
    if (strcmp(opt, "ro") == 0) ro = 1;
    else if (strcmp(opt, "rw") != 0) fail(EXIT_HELPER, "spec: mount option %s: expected ro or rw", opt);
  }
  need_abs("mount source", v);
  need_abs("mount target", dst);
  struct volume *nv = realloc(s->volumes, (s->nvolumes + 1) * sizeof *nv);
  if (!nv) fail(EXIT_HELPER, "out of memory");
  s->volumes = nv;
  s->volumes[s->nvolumes++] = (struct volume){.src = v, .dst = dst, .ro = ro};
}

static int restart_policy(const char *v) {
  if (strcmp(v, "no") == 0) return RESTART_NO;
  if (strcmp(v, "on-failure") == 0) return RESTART_ON_FAILURE;
  if (strcmp(v, "always") == 0) return RESTART_ALWAYS;
  if (strcmp(v, "unless-stopped") == 0) return RESTART_UNLESS_STOPPED;
  fail(EXIT_HELPER, "spec: restart=%s: expected no, on-failure, always or unless-stopped", v);
}

static void parse_record(struct spec *s, char *key, char *v) {
  if (strcmp(key, "mode") == 0) {
    if (strcmp(v, "run") == 0) s->mode = MODE_RUN;
    else if (strcmp(v, "exec") == 0) s->mode = MODE_EXEC;
    else fail(EXIT_HELPER, "spec: mode=%s: expected run or exec", v);
  } else if (strcmp(key, "argv") == 0) {
    strlist_push(&s->argv, v);
  } else if (strcmp(key, "env") == 0) {
    if (!strchr(v, '=')) fail(EXIT_HELPER, "spec: env=%s: expected NAME=VALUE", v);
    strlist_push(&s->env, v);
  } else if (strcmp(key, "cwd") == 0) {
    need_abs(key, v);
    s->cwd = v;
  } else if (strcmp(key, "user") == 0) {
    parse_user(s, v);
  } else if (strcmp(key, "group") == 0) {
    gid_t *ng = realloc(s->groups, (s->ngroups + 1) * sizeof *ng);
    if (!ng) fail(EXIT_HELPER, "out of memory");
    s->groups = ng;
    s->groups[s->ngroups++] = (gid_t)parse_int(key, v, 0, UINT32_MAX - 1);
  } else if (strcmp(key, "hostname") == 0) {
    if (!*v || strlen(v) > 64) fail(EXIT_HELPER, "spec: hostname=%s: 1 to 64 characters", v);
    s->hostname = v;
  } else if (strcmp(key, "ns") == 0) {
    s->ns_flags |= ns_flag(v);
  } else if (strcmp(key, "uid_map") == 0) {
    check_map(key, v);
    strlist_push(&s->uid_map, v);
  } else if (strcmp(key, "gid_map") == 0) {
    check_map(key, v);
    strlist_push(&s->gid_map, v);
  } else if (strcmp(key, "setgroups") == 0) {
    if (strcmp(v, "deny") == 0) s->setgroups_deny = 1;
    else if (strcmp(v, "allow") == 0) s->setgroups_deny = 0;
    else fail(EXIT_HELPER, "spec: setgroups=%s: expected deny or allow", v);
  } else if (strcmp(key, "cgroup_procs") == 0) {
    need_abs(key, v);
    strlist_push(&s->cgroup_procs, v);
  } else if (strcmp(key, "cgroup_clone") == 0) {
    s->cgroup_clone = parse_bool(key, v);
  } else if (strcmp(key, "rootfs") == 0) {
    need_abs(key, v);
    s->rootfs = v;
  } else if (strcmp(key, "rootfs_overlay") == 0) {
    s->rootfs_overlay = v;
  } else if (strcmp(key, "readonly") == 0) {
    s->readonly_rootfs = parse_bool(key, v);
  } else if (strcmp(key, "mount") == 0) {
    parse_volume(s, v);
  } else if (strcmp(key, "mask") == 0) {
    need_abs(key, v);
    strlist_push(&s->masked, v);
  } else if (strcmp(key, "readonly_path") == 0) {
    need_abs(key, v);
    strlist_push(&s->ro_paths, v);
  } else if (strcmp(key, "device_cgroup") == 0) {
    need_abs(key, v);
    s->device_cgroup = v;
  } else if (strcmp(key, "device_allow") == 0) {
    strlist_push(&s->device_allow, v);
  } else if (strcmp(key, "device_node") == 0) {
    strlist_push(&s->device_nodes, v);
  } else if (strcmp(key, "log_path") == 0) {
    need_abs(key, v);
    s->log_path = v;
  } else if (strcmp(key, "log_max_bytes") == 0) {
    s->log_max_bytes = parse_int(key, v, 1, 1LL << 40);
  } else if (strcmp(key, "log_max_files") == 0) {
    s->log_max_files = (long)parse_int(key, v, 1, 100);
  } else if (strcmp(key, "restart") == 0) {
    s->restart = restart_policy(v);
  } else if (strcmp(key, "restart_max") == 0) {
    s->restart_max = (long)parse_int(key, v, 0, INT_MAX);
  } else if (strcmp(key, "stop_flag") == 0) {
    need_abs(key, v);
    s->stop_flag = v;
  } else if (strcmp(key, "cap") == 0) {
    s->caps |= 1ULL << parse_int(key, v, 0, 63);
  } else if (strcmp(key, "no_new_privs") == 0) {
    s->no_new_privs = parse_bool(key, v);
  } else if (strcmp(key, "init") == 0) {
    s->init = parse_bool(key, v);
  } else if (strcmp(key, "tty") == 0) {
    s->tty = parse_bool(key, v);
  } else if (strcmp(key, "report_fd") == 0) {
    s->report_fd = (int)parse_int(key, v, 3, INT_MAX);
  } else if (strcmp(key, "seccomp_default") == 0) {
    s->seccomp_default = v;
  } else if (strcmp(key, "seccomp_cache") == 0) {
    need_abs(key, v);
    s->seccomp_cache = v;
  } else if (strcmp(key, "seccomp_arch") == 0) {
    strlist_push(&s->seccomp_arches, v);
  } else if (strcmp(key, "seccomp_rule") == 0) {
    strlist_push(&s->seccomp_rules, v);
  } else if (strcmp(key, "oom_score_adj") == 0) {
    s->oom_score_adj = (int)parse_int(key, v, -1000, 1000);
    s->has_oom_score_adj = 1;
  } else if (strcmp(key, "rlimit") == 0) {
    strlist_push(&s->rlimits, v);
  } else if (strcmp(key, "netns_fd") == 0) {
    s->netns_fd = (int)parse_int(key, v, 3, INT_MAX);
  } else if (strcmp(key, "net_wait_fd") == 0) {
    s->net_wait_fd = (int)parse_int(key, v, 3, INT_MAX);
  } else if (strcmp(key, "net_addr") == 0) {
    s->net_addr = v;
  } else if (strcmp(key, "net_gateway") == 0) {
    s->net_gateway = v;
  } else if (strcmp(key, "state_file") == 0) {
    need_abs(key, v);
    s->owner_state_file = v;
  } else if (strcmp(key, "state_json") == 0) {
    if (v[0] != '{') fail(EXIT_HELPER, "spec: state_json= must start a JSON object");
    s->owner_state_json = v;
  } else if (strcmp(key, "oom_file") == 0) {
    need_abs(key, v);
    s->owner_oom_file = v;
  } else if (strcmp(key, "owner_remove") == 0) {
    need_abs(key, v);
    strlist_push(&s->owner_remove, v);
  } else if (strcmp(key, "auto_remove") == 0) {
    s->owner_auto_remove = parse_bool(key, v);
  } else if (strcmp(key, "stdin_null") == 0) {
    s->owner_stdin_null = parse_bool(key, v);
  } else if (strcmp(key, "pid") == 0) {
    s->target_pid = (pid_t)parse_int(key, v, 1, INT_MAX);
  } else {
    fail(EXIT_HELPER, "spec: unknown key \"%s\"", key);
  }
}

static void check_spec(const struct spec *s) {
  if (s->mode == MODE_NONE) fail(EXIT_HELPER, "spec: mode= is missing");
  if (s->argv.n == 0) fail(EXIT_HELPER, "spec: argv= is missing");
  if (s->mode == MODE_EXEC && s->target_pid <= 0) fail(EXIT_HELPER, "spec: exec mode needs pid=");
  if (s->mode == MODE_RUN && s->target_pid > 0) fail(EXIT_HELPER, "spec: pid= is only for exec mode");
  if (s->mode == MODE_EXEC && (s->ns_flags || s->rootfs || s->hostname || s->init || s->nvolumes ||
                               s->masked.n || s->ro_paths.n || s->uid_map.n))
    fail(EXIT_HELPER, "spec: ns=, rootfs=, hostname=, init=, mount=, mask= and maps are run-mode keys");
  int userns = (s->ns_flags & CLONE_NEWUSER) != 0;
  if (userns && (s->uid_map.n == 0 || s->gid_map.n == 0))
    fail(EXIT_HELPER, "spec: ns=user needs uid_map= and gid_map=");
  if (!userns && (s->uid_map.n || s->gid_map.n))
    fail(EXIT_HELPER, "spec: uid_map=/gid_map= need ns=user");
  if (s->hostname && !(s->ns_flags & CLONE_NEWUTS))
    fail(EXIT_HELPER, "spec: hostname= needs ns=uts (it would rename the host)");
  if ((s->rootfs || s->volumes || s->masked.n || s->ro_paths.n) && s->mode == MODE_RUN &&
      !(s->ns_flags & CLONE_NEWNS))
    fail(EXIT_HELPER, "spec: rootfs=/mount=/mask= need ns=mnt");
  if (s->nvolumes && !s->rootfs) fail(EXIT_HELPER, "spec: mount= needs rootfs=");
  if (s->rootfs_overlay && !s->rootfs) fail(EXIT_HELPER, "spec: rootfs_overlay= needs rootfs=");
  if (!s->seccomp_default && (s->seccomp_arches.n || s->seccomp_rules.n))
    fail(EXIT_HELPER, "spec: seccomp_arch=/seccomp_rule= need seccomp_default=");
  if (s->device_nodes.n && !s->rootfs) fail(EXIT_HELPER, "spec: device_node= needs rootfs=");
  if ((s->device_cgroup || s->device_allow.n) && s->mode != MODE_RUN)
    fail(EXIT_HELPER, "spec: device_cgroup=/device_allow= are run-mode keys");
  if (s->device_allow.n && !s->device_cgroup) fail(EXIT_HELPER, "spec: device_allow= needs device_cgroup=");
  if ((s->netns_fd >= 0 || s->net_wait_fd >= 0) && s->mode != MODE_RUN)
    fail(EXIT_HELPER, "spec: netns_fd=/net_wait_fd= are run-mode keys");
  if (s->netns_fd >= 0 && (s->ns_flags & CLONE_NEWNET))
    fail(EXIT_HELPER, "spec: netns_fd= joins a network namespace; it excludes ns=net");
  if (s->net_wait_fd >= 0 && !(s->ns_flags & CLONE_NEWNET))
    fail(EXIT_HELPER, "spec: net_wait_fd= needs ns=net (the namespace tstop sets up)");
  if ((s->net_addr || s->net_gateway) && s->net_wait_fd < 0)
    fail(EXIT_HELPER, "spec: net_addr=/net_gateway= need net_wait_fd= (eth0 is tstop's veth)");
  check_device_rules(s);
  if ((s->restart || s->restart_max || s->stop_flag) && s->mode != MODE_RUN)
    fail(EXIT_HELPER, "spec: restart=, restart_max= and stop_flag= are run-mode keys");
  int owner = s->owner_state_file || s->owner_state_json || s->owner_oom_file || s->owner_remove.n ||
              s->owner_auto_remove || s->owner_stdin_null;
  if (owner && (s->mode != MODE_RUN || !s->owner_state_file || !s->owner_state_json))
    fail(EXIT_HELPER, "spec: state_file=, state_json=, oom_file=, owner_remove=, auto_remove= and stdin_null= "
                      "are run-mode keys and need state_file= and state_json=");
  if (owner && (s->log_path || s->restart || s->report_fd >= 0))
    fail(EXIT_HELPER, "spec: state_file= (a foreground container the helper owns) excludes log_path=, restart= and report_fd=");
  if (s->restart_max && s->restart != RESTART_ON_FAILURE) fail(EXIT_HELPER, "spec: restart_max= needs restart=on-failure");
  if (s->log_path && (s->mode != MODE_RUN || !s->log_max_bytes || !s->log_max_files))
    fail(EXIT_HELPER, "spec: log_path= is a run-mode key and needs log_max_bytes= and log_max_files=");
}

void spec_read(int fd, struct spec *s) {
  memset(s, 0, sizeof *s);
  s->no_new_privs = 1;
  s->cgroup_clone = 1;
  s->setgroups_deny = 1;
  s->report_fd = -1;
  s->netns_fd = -1;
  s->net_wait_fd = -1;

  size_t len;
  char *buf = read_all(fd, &len);
  if (len == 0) fail(EXIT_HELPER, "spec: empty (expected records on fd %d)", fd);
  if (buf[len - 1] != '\0') fail(EXIT_HELPER, "spec: last record is not NUL-terminated (truncated?)");

  int seen_end = 0;
  size_t index = 0;
  char *next;
  for (char *rec = buf; rec < buf + len; rec = next, index++) {
    next = rec + strlen(rec) + 1; /* before parsing, which may split rec */
    if (seen_end) fail(EXIT_HELPER, "spec: records after end=1");
    char *eq = strchr(rec, '=');
    if (!eq || eq == rec) fail(EXIT_HELPER, "spec: record %zu is not key=value", index);
    *eq = '\0';
    char *key = rec, *v = eq + 1;
    if (index == 0) {
      if (strcmp(key, "version") != 0 || strcmp(v, "1") != 0)
        fail(EXIT_HELPER, "spec: first record must be version=1");
      continue;
    }
    if (strcmp(key, "end") == 0) {
      seen_end = 1;
      continue;
    }
    parse_record(s, key, v);
  }
  if (!seen_end) fail(EXIT_HELPER, "spec: missing end=1 (truncated?)");
  check_spec(s);
  g_report_fd = s->report_fd;
  limits_check(s);
  seccomp_prepare(s);
}
