/* A cache of the BPF programs libseccomp generates (native/src/seccomp.c).
 *
 * Building the default profile's ~380 rules and generating its BPF costs
 * ~5 ms per launch; the program only depends on the records tstop sends
 * (seccomp_default/arch/rule), libseccomp's version and the kernel API level
 * it detected, the machine and the kernel release. All of that, as text, is
 * the key; a file in spec seccomp_cache=DIR (/run/tstop.cache, root's, 0700)
 * holds the key and the program. A hit is the exact key byte for byte, so
 * the program loaded is the one libseccomp would generate now: the filter
 * is the same, only its generation is skipped.
 *
 * File: "tstop-seccomp-bpf 1\n" <key length, decimal> "\n" <key> <program>.
 * Name: FNV-1a 64 of the key, in hex, ".bpf". Files and the directory are
 * opened without following symlinks and must be the helper's own, not
 * writable by group or others; anything else is a miss (and not written). */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define MAGIC "tstop-seccomp-bpf 1\n"
#define MAX_FILE (1 << 20)

struct buf {
  char *p;
  size_t n, cap;
};

static void put(struct buf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->p = realloc(b->p, b->cap);
    if (!b->p) fail(EXIT_HELPER, "out of memory");
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void puts_(struct buf *b, const char *s) { put(b, s, strlen(s)); }

static void key_text(const struct spec *s, struct buf *k) {
  const struct scmp_version *v = seccomp_version();
  struct utsname u;
  if (uname(&u) < 0) memset(&u, 0, sizeof u);
  char head[512];
  snprintf(head, sizeof head, "libseccomp %u.%u.%u api %u machine %s kernel %s %s\n", v->major, v->minor,
           v->micro, seccomp_api_get(), u.machine, u.release, u.version);
  puts_(k, head);
  puts_(k, "default ");
  puts_(k, s->seccomp_default);
  puts_(k, "\n");
  for (size_t i = 0; i < s->seccomp_arches.n; i++) {
    puts_(k, "arch ");
    puts_(k, s->seccomp_arches.v[i]);
    puts_(k, "\n");
  }
  for (size_t i = 0; i < s->seccomp_rules.n; i++) {
    puts_(k, "rule ");
    puts_(k, s->seccomp_rules.v[i]);
    puts_(k, "\n");
  }
}

static void file_name(const struct buf *k, char out[32]) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < k->n; i++) h = (h ^ (unsigned char)k->p[i]) * 1099511628211ULL;
  snprintf(out, 32, "%016llx.bpf", (unsigned long long)h);
}

/* Ours and only ours to write. */
static int trusted(int fd, int want_dir) {
  struct stat st;
  if (fstat(fd, &st) < 0) return 0;
  if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) return 0;
  return st.st_uid == geteuid() && (st.st_mode & 022) == 0;
}

static int open_dir(const char *dir, int create) {
  if (create && mkdir(dir, 0700) < 0 && errno != EEXIST) return -1;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0 && !trusted(fd, 1)) {
    close(fd);
    return -1;
  }
  return fd;
}

int seccomp_cache_load(const struct spec *s, struct bpf_program_buf *out) {
  struct buf k = {0};
  key_text(s, &k);
  char name[32];
  file_name(&k, name);
  int dir = open_dir(s->seccomp_cache, 0);
  int fd = dir < 0 ? -1 : openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (dir >= 0) close(dir);
  int hit = 0;
  struct stat st;
  char *data = NULL;
  if (fd >= 0 && trusted(fd, 0) && fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size <= MAX_FILE &&
      (data = malloc((size_t)st.st_size)) && pread(fd, data, (size_t)st.st_size, 0) == st.st_size) {
    char head[64];
    int head_len = snprintf(head, sizeof head, MAGIC "%zu\n", k.n);
    size_t off = (size_t)head_len + k.n, size = (size_t)st.st_size;
    if (size > off && memcmp(data, head, (size_t)head_len) == 0 && memcmp(data + head_len, k.p, k.n) == 0 &&
        (size - off) % sizeof(struct sock_filter) == 0 && (size - off) / sizeof(struct sock_filter) <= BPF_MAXINSNS) {
      out->len = (size - off) / sizeof(struct sock_filter);
      out->insns = malloc(size - off);
      if (!out->insns) fail(EXIT_HELPER, "out of memory");
      memcpy(out->insns, data + off, size - off);
      hit = 1;
    }
  }
  free(data);
  free(k.p);
  if (fd >= 0) close(fd);
  return hit;
}

/* Best effort: a launch never fails for its cache. Written to a temporary
 * name and renamed, so a reader sees a whole file or none. */
void seccomp_cache_store(const struct spec *s, const struct bpf_program_buf *prog) {
  struct buf k = {0};
  key_text(s, &k);
  char name[32], tmp[64];
  file_name(&k, name);
  snprintf(tmp, sizeof tmp, "%s.%ld.tmp", name, (long)getpid());
  int dir = open_dir(s->seccomp_cache, 1);
  if (dir < 0) {
    free(k.p);
    return;
  }
  struct buf f = {0};
  char head[64];
  snprintf(head, sizeof head, MAGIC "%zu\n", k.n);
  puts_(&f, head);
  put(&f, k.p, k.n);
  put(&f, prog->insns, prog->len * sizeof(struct sock_filter));
  int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0) {
    int ok = write(fd, f.p, f.n) == (ssize_t)f.n;
    close(fd);
    if (!ok || renameat(dir, tmp, dir, name) < 0) unlinkat(dir, tmp, 0);
  }
  close(dir);
  free(f.p);
  free(k.p);
}
