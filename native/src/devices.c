/* Device access on cgroup v2: a BPF_CGROUP_DEVICE program that allows only
 * the spec's `device_allow=` rules, attached to the container's cgroup
 * (`device_cgroup=`) before the workload exists. Cgroup v1 needs none of
 * this: tstop writes devices.deny/devices.allow itself.
 *
 * The program has the shape of runc's devicefilter: load the request
 * (type, access, major, minor) from struct bpf_cgroup_dev_ctx into r2-r5,
 * then one block per rule that jumps to the next block on a mismatch and
 * returns 1 (allow) on a match; falling off the last block returns 0
 * (deny). The attach uses BPF_F_ALLOW_MULTI, so a program on an ancestor
 * still applies: both must allow. */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WILDCARD -1LL
#define MAX_INSNS 4096

struct dev_rule {
  char type; /* 'a', 'b' or 'c' */
  long long major, minor; /* WILDCARD for '*' */
  unsigned access;        /* BPF_DEVCG_ACC_* bits */
};

static long long parse_number(const char *rule, const char **p) {
  if (**p == '*') {
    (*p)++;
    return WILDCARD;
  }
  char *end;
  errno = 0;
  unsigned long long x = strtoull(*p, &end, 10);
  if (end == *p || errno || x > 0xffffffffULL)
    fail(EXIT_HELPER, "spec: device_allow=%s: expected TYPE MAJOR:MINOR ACCESS", rule);
  *p = end;
  return (long long)x;
}

/* "c 1:3 rwm", "b *:* m", "a *:* rwm" (docker's --device-cgroup-rule syntax). */
static struct dev_rule parse_rule(const char *text) {
  struct dev_rule r = {0};
  const char *p = text;
  if ((*p != 'a' && *p != 'b' && *p != 'c') || p[1] != ' ')
    fail(EXIT_HELPER, "spec: device_allow=%s: the type is a, b or c", text);
  r.type = *p;
  p += 2;
  r.major = parse_number(text, &p);
  if (*p++ != ':') fail(EXIT_HELPER, "spec: device_allow=%s: expected MAJOR:MINOR", text);
  r.minor = parse_number(text, &p);
  if (*p++ != ' ' || !*p) fail(EXIT_HELPER, "spec: device_allow=%s: expected an access (r, w, m)", text);
  for (; *p; p++) {
    if (*p == 'm') r.access |= BPF_DEVCG_ACC_MKNOD;
    else if (*p == 'r') r.access |= BPF_DEVCG_ACC_READ;
    else if (*p == 'w') r.access |= BPF_DEVCG_ACC_WRITE;
    else fail(EXIT_HELPER, "spec: device_allow=%s: the access is made of r, w and m", text);
  }
  return r;
}

struct program {
  struct bpf_insn insns[MAX_INSNS];
  size_t n;
};

static size_t emit(struct program *prog, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  if (prog->n >= MAX_INSNS) fail(EXIT_HELPER, "device filter: more than %d instructions", MAX_INSNS);
  struct bpf_insn *i = &prog->insns[prog->n];
  memset(i, 0, sizeof *i);
  i->code = code;
  i->dst_reg = dst & 0xf;
  i->src_reg = src & 0xf;
  i->off = off;
  i->imm = imm;
  return prog->n++;
}

#define ALL_ACCESS (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)

/* One rule's block; its "no match" jumps land on the next block. */
static void emit_rule(struct program *prog, const struct dev_rule *r) {
  size_t jumps[4], nj = 0;
  if (r->type != 'a') {
    int32_t type = r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
    jumps[nj++] = emit(prog, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 0, type);
  }
  if (r->access != ALL_ACCESS) {
    /* Every requested access bit must be among the rule's. */
    emit(prog, BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
    emit(prog, BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, (int32_t)r->access);
    jumps[nj++] = emit(prog, BPF_JMP | BPF_JNE | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
  }
  if (r->major != WILDCARD) jumps[nj++] = emit(prog, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, (int32_t)r->major);
  if (r->minor != WILDCARD) jumps[nj++] = emit(prog, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, (int32_t)r->minor);
  emit(prog, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
  emit(prog, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  for (size_t j = 0; j < nj; j++) prog->insns[jumps[j]].off = (int16_t)(prog->n - jumps[j] - 1);
}

static void build_program(const struct spec *s, struct program *prog) {
  /* r2 = type, r3 = access, r4 = major, r5 = minor (r1 = ctx, then scratch). */
  emit(prog, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
  emit(prog, BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
  emit(prog, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
  emit(prog, BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
  emit(prog, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major), 0);
  emit(prog, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor), 0);
  for (size_t i = 0; i < s->device_allow.n; i++) {
    struct dev_rule r = parse_rule(s->device_allow.v[i]);
    emit_rule(prog, &r);
  }
  emit(prog, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
  emit(prog, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

static long sys_bpf(int cmd, union bpf_attr *attr) {
  return syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

/* Rules are checked when the spec is read, so a bad one fails before any
 * process exists. */
void check_device_rules(const struct spec *s) {
  for (size_t i = 0; i < s->device_allow.n; i++) (void)parse_rule(s->device_allow.v[i]);
}

void attach_device_filter(const struct spec *s) {
  if (!s->device_cgroup) return;
  static struct program prog;
  prog.n = 0;
  build_program(s, &prog);

  static char log[16384];
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)prog.insns;
  attr.insn_cnt = (uint32_t)prog.n;
  attr.license = (uint64_t)(uintptr_t)"Apache";
  attr.log_buf = (uint64_t)(uintptr_t)log;
  attr.log_size = sizeof log;
  attr.log_level = 1;
  int prog_fd = (int)sys_bpf(BPF_PROG_LOAD, &attr);
  if (prog_fd < 0) {
    int e = errno;
    const char *hint = e == ENOSYS || e == EINVAL
                           ? " (the kernel needs CONFIG_BPF_SYSCALL and CONFIG_CGROUP_BPF for device rules on cgroup v2)"
                           : "";
    errno = e;
    if (log[0]) fail_errno(EXIT_HELPER, "device filter: bpf(BPF_PROG_LOAD)%s; verifier: %.300s", hint, log);
    fail_errno(EXIT_HELPER, "device filter: bpf(BPF_PROG_LOAD)%s", hint);
  }
  int cg_fd = open(s->device_cgroup, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (cg_fd < 0) fail_errno(EXIT_HELPER, "device filter: open cgroup %s", s->device_cgroup);
  memset(&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)cg_fd;
  attr.attach_bpf_fd = (uint32_t)prog_fd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
    fail_errno(EXIT_HELPER, "device filter: bpf(BPF_PROG_ATTACH) to %s", s->device_cgroup);
  /* The cgroup holds the program now; it goes with the cgroup. */
  close(cg_fd);
  close(prog_fd);
  trace("device-filter-attached");
}
