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
 *
 * tstop_read_batch_same(..., prev_buf, prev_offs, prev_lens, same)
 *   the same, and then same[i] = 1 where file i read whole (0 <= length <
 *   max_file) gave the bytes the previous call gave it (its buffer and
 *   arrays, passed back as prev_*), else 0. Comparing here costs a memcmp;
 *   in JavaScript it was a call chain per file (src/cgroupfs/batch.ts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
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

int32_t tstop_read_batch_same(const int32_t *fds, int32_t n, char *buf, int32_t cap, int32_t max_file, int32_t *offs,
                              int32_t *lens, const char *prev_buf, const int32_t *prev_offs, const int32_t *prev_lens,
                              uint8_t *same) {
  int32_t done = tstop_read_batch(fds, n, buf, cap, max_file, offs, lens);
  for (int32_t i = 0; i < done; i++) {
    int32_t len = lens[i];
    same[i] = len >= 0 && len < max_file && prev_lens[i] == len &&
              memcmp(buf + offs[i], prev_buf + prev_offs[i], (size_t)len) == 0;
  }
  return done;
}
