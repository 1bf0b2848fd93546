/*
 * libtstop-read: one call per tick reads every cgroup file tstop keeps open.
 * Each descriptor is read from offset 0 (the kernel regenerates a cgroup
 * file's content on each read from the start) and the contents are packed
 * into one buffer. Node pays its per-call cost once instead of once per file
 * (about 0.4-0.8 us each, at ~19,000 files a tick for 1,000 cgroups).
 *
 * tstop_read_batch(fds, n, buf, cap, max_file, offs, lens)
 *   reads fds[0..n) in order; for file i, offs[i] is where its bytes start
 *   in buf and lens[i] their length, or -errno. A negative fd is skipped
 *   (lens[i] = -EBADF). It stops before a file when fewer than max_file bytes
 *   of buf are left, and returns how many files it did; a length equal to
 *   max_file may be a truncated file (the caller reads it alone).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

int32_t tstop_read_batch(const int32_t *fds, int32_t n, char *buf, int32_t cap, int32_t max_file, int32_t *offs,
                         int32_t *lens) {
  int32_t pos = 0;
  for (int32_t i = 0; i < n; i++) {
    if (cap - pos < max_file) return i;
    offs[i] = pos;
    if (fds[i] < 0) {
      lens[i] = -EBADF;
      continue;
    }
    ssize_t got = pread(fds[i], buf + pos, (size_t)max_file, 0);
    if (got < 0) {
      lens[i] = -errno;
      continue;
    }
    lens[i] = (int32_t)got;
    pos += (int32_t)got;
  }
  return n;
}
