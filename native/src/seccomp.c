/* Seccomp filter from the spec's seccomp_* records (tstop's
 * src/launcher/seccomp.ts reduces a Docker-format profile to them):
 *
 *   seccomp_default=ACTION          errno:N, allow, kill_thread, kill_process, trap, trace:N, log
 *   seccomp_arch=NAME               libseccomp names: x86_64, x86, x32, aarch64...
 *   seccomp_rule=NAME ACTION [INDEX:OP:VALUE:VALUETWO]...   OP: ne lt le eq ge gt masked_eq
 *
 * Built with libseccomp (it handles the per-architecture syscall tables,
 * the x32/i386 ABIs of an x86_64 kernel and 64-bit argument comparisons)
 * by the parent when it parses the spec, so a bad record fails the launch
 * before anything exists, and generated there into the BPF program that
 * seccomp_load would install (exported once, kept in seccomp-cache.c's cache
 * when the spec names one: a hit skips libseccomp entirely); loaded by the
 * workload's process as the last step before exec, with the same
 * seccomp(SECCOMP_SET_MODE_FILTER, 0) call libseccomp makes for these
 * attributes. Names this libseccomp does not know are skipped (as Docker
 * does: profiles list syscalls of newer kernels). */
#include "helper.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static scmp_filter_ctx g_ctx;
static struct bpf_program_buf g_prog; /* the generated filter, loaded by seccomp_install */

static uint32_t parse_action(const char *what, const char *v) {
  const char *colon = strchr(v, ':');
  size_t len = colon ? (size_t)(colon - v) : strlen(v);
  long n = 0;
  if (colon) {
    char *end;
    n = strtol(colon + 1, &end, 10);
    if (*end || n < 0 || n > 65535) fail(EXIT_HELPER, "spec: %s %s: bad number", what, v);
  }
#define IS(name) (len == strlen(name) && strncmp(v, name, len) == 0)
  if (IS("errno") && colon) return SCMP_ACT_ERRNO((uint32_t)n);
  if (IS("trace") && colon) return SCMP_ACT_TRACE((uint32_t)n);
  if (!colon) {
    if (IS("allow")) return SCMP_ACT_ALLOW;
    if (IS("kill_thread")) return SCMP_ACT_KILL_THREAD;
    if (IS("kill_process")) return SCMP_ACT_KILL_PROCESS;
    if (IS("trap")) return SCMP_ACT_TRAP;
    if (IS("log")) return SCMP_ACT_LOG;
  }
#undef IS
  fail(EXIT_HELPER, "spec: %s: unknown seccomp action \"%s\"", what, v);
}

static enum scmp_compare parse_op(const char *op, const char *rule) {
  static const struct { const char *name; enum scmp_compare op; } t[] = {
      {"ne", SCMP_CMP_NE}, {"lt", SCMP_CMP_LT}, {"le", SCMP_CMP_LE}, {"eq", SCMP_CMP_EQ},
      {"ge", SCMP_CMP_GE}, {"gt", SCMP_CMP_GT}, {"masked_eq", SCMP_CMP_MASKED_EQ},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (strcmp(op, t[i].name) == 0) return t[i].op;
  fail(EXIT_HELPER, "spec: seccomp_rule=%s: unknown operator \"%s\"", rule, op);
}

/* "name action [i:op:a:b]..." */
static void add_rule(uint32_t default_action, const char *text) {
  char *copy = strdup(text), *save = NULL;
  if (!copy) fail(EXIT_HELPER, "out of memory");
  char *name = strtok_r(copy, " ", &save);
  char *act = strtok_r(NULL, " ", &save);
  if (!name || !act) fail(EXIT_HELPER, "spec: seccomp_rule=%s: expected NAME ACTION [ARG]...", text);
  uint32_t action = parse_action("seccomp_rule", act);
  struct scmp_arg_cmp args[6];
  unsigned nargs = 0;
  for (char *a; (a = strtok_r(NULL, " ", &save));) {
    unsigned idx;
    char op[16];
    unsigned long long x, y;
    if (nargs == 6 || sscanf(a, "%u:%15[a-z_]:%llu:%llu", &idx, op, &x, &y) != 4 || idx > 5)
      fail(EXIT_HELPER, "spec: seccomp_rule=%s: bad argument \"%s\"", text, a);
    args[nargs++] = (struct scmp_arg_cmp){.arg = idx, .op = parse_op(op, text), .datum_a = x, .datum_b = y};
  }
  int nr = seccomp_syscall_resolve_name(name);
  /* Unknown here, or the same as the default (libseccomp refuses those). */
  if (nr == __NR_SCMP_ERROR || action == default_action) {
    free(copy);
    return;
  }
  int rc = seccomp_rule_add_array(g_ctx, action, nr, nargs, args);
  if (rc < 0) {
    errno = -rc;
    fail_errno(EXIT_HELPER, "seccomp: add rule \"%s\"", text);
  }
  free(copy);
}

/* libseccomp's program for the context, as seccomp_load would generate it. */
static void export_program(void) {
  int fd = (int)syscall(SYS_memfd_create, "tstop-seccomp", MFD_CLOEXEC);
  if (fd < 0) fail_errno(EXIT_HELPER, "memfd_create (seccomp program)");
  int rc = seccomp_export_bpf(g_ctx, fd);
  if (rc < 0) {
    errno = -rc;
    fail_errno(EXIT_HELPER, "seccomp: generate the filter program");
  }
  off_t size = lseek(fd, 0, SEEK_END);
  if (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0)
    fail(EXIT_HELPER, "seccomp: generated program has %lld bytes", (long long)size);
  g_prog.insns = malloc((size_t)size);
  if (!g_prog.insns) fail(EXIT_HELPER, "out of memory");
  if (pread(fd, g_prog.insns, (size_t)size, 0) != size) fail_errno(EXIT_HELPER, "seccomp: read the filter program");
  g_prog.len = (size_t)size / sizeof(struct sock_filter);
  close(fd);
}

void seccomp_prepare(const struct spec *s) {
  if (!s->seccomp_default) return;
  trace("seccomp-build");
  if (s->seccomp_cache && seccomp_cache_load(s, &g_prog)) {
    trace("seccomp-cached");
    return;
  }
  uint32_t dflt = parse_action("seccomp_default", s->seccomp_default);
  g_ctx = seccomp_init(dflt);
  if (!g_ctx) fail(EXIT_HELPER, "seccomp_init(%s) failed", s->seccomp_default);
  /* tstop sets no_new_privs itself (spec no_new_privs=); libseccomp would
   * set it unasked. */
  int rc = seccomp_attr_set(g_ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (rc < 0) {
    errno = -rc;
    fail_errno(EXIT_HELPER, "seccomp: clear SCMP_FLTATR_CTL_NNP");
  }
  for (size_t i = 0; i < s->seccomp_arches.n; i++) {
    uint32_t arch = seccomp_arch_resolve_name(s->seccomp_arches.v[i]);
    if (arch == 0) fail(EXIT_HELPER, "spec: seccomp_arch=%s: unknown to libseccomp", s->seccomp_arches.v[i]);
    rc = seccomp_arch_add(g_ctx, arch);
    if (rc < 0 && rc != -EEXIST) {
      errno = -rc;
      fail_errno(EXIT_HELPER, "seccomp_arch_add(%s)", s->seccomp_arches.v[i]);
    }
  }
  for (size_t i = 0; i < s->seccomp_rules.n; i++) add_rule(dflt, s->seccomp_rules.v[i]);
  export_program();
  seccomp_release(g_ctx);
  g_ctx = NULL;
  if (s->seccomp_cache) seccomp_cache_store(s, &g_prog);
  trace("seccomp-built");
}

int seccomp_pending(void) { return g_prog.insns != NULL; }

/* Needs no_new_privs or CAP_SYS_ADMIN; after it only the filter's allowed
 * calls work, so it is the last thing before exec (or before the uid switch
 * when no_new_privs=0, see drop_privileges). No flags: libseccomp passes
 * none either with TSYNC, LOG and SPEC_ALLOW unset, as here. */
void seccomp_install(void) {
  if (!g_prog.insns) return;
  trace("seccomp-load");
  struct sock_fprog prog = {.len = (unsigned short)g_prog.len, .filter = g_prog.insns};
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
  if (rc < 0 && errno == ENOSYS) rc = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
  if (rc < 0) fail_errno(EXIT_HELPER, "seccomp(SECCOMP_SET_MODE_FILTER) (install the seccomp filter)");
  free(g_prog.insns);
  g_prog.insns = NULL;
  trace("seccomp-loaded");
}
