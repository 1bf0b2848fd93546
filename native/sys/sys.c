/* tstop-sys.node: the few system calls the collection and the recorder make
 * every tick or at start, without koffi. Loading koffi costs a process ~6 MB
 * of RSS and ~8 ms; an N-API addon is a small .so. Built by native/build.mjs
 * against node_api.h (no node-gyp); without it tstop falls back to koffi,
 * with the same results.
 *
 *   readBatch(fds, n, buf, cap, maxFile, offs, lens) -> files done
 *       tstop_read_batch of native/read/readbatch.c (the one implementation)
 *   readBatchSame(fds, n, buf, cap, maxFile, offs, lens, prevBuf, prevOffs, prevLens, same) -> files done
 *       tstop_read_batch_same: also which files gave the bytes of the previous call
 *   inotifyInit(flags) -> fd or -errno
 *   inotifyAddWatch(fd, path, mask) -> watch id or -errno
 *   inotifyRmWatch(fd, wd) -> 0 or -errno
 *   read(fd, buf) -> bytes read or -errno (no exception for EAGAIN)
 *   flock(fd, operation) -> 0 or -errno
 *
 * Typed arrays are checked against n and cap before the C code sees them. */
#define _GNU_SOURCE
#include <node_api.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <unistd.h>

int32_t tstop_read_batch(const int32_t *fds, int32_t n, char *buf, int32_t cap, int32_t max_file, int32_t *offs,
                         int32_t *lens);
int32_t tstop_read_batch_same(const int32_t *fds, int32_t n, char *buf, int32_t cap, int32_t max_file, int32_t *offs,
                              int32_t *lens, const char *prev_buf, const int32_t *prev_offs, const int32_t *prev_lens,
                              uint8_t *same);

static napi_value int_value(napi_env env, int32_t v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

static napi_value fail(napi_env env, const char *usage) {
  napi_throw_type_error(env, NULL, usage);
  return NULL;
}

/* The data and element count of a typed array of the given type. */
static int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  if (napi_get_typedarray_info(env, v, &type, length, data, &ab, &off) != napi_ok) return 0;
  return type == want;
}

static int ints(napi_env env, napi_value *args, size_t from, size_t count, int32_t *out) {
  for (size_t i = 0; i < count; i++)
    if (napi_get_value_int32(env, args[from + i], &out[i]) != napi_ok) return 0;
  return 1;
}

/* Exactly count arguments, each an int32 (count <= 4). */
static int int_args(napi_env env, napi_callback_info info, size_t count, int32_t *out) {
  size_t argc = count;
  napi_value a[4];
  return count <= 4 && napi_get_cb_info(env, info, &argc, a, NULL, NULL) == napi_ok && argc == count &&
         ints(env, a, 0, count, out);
}

static napi_value read_batch_fn(napi_env env, napi_callback_info info) {
  static const char usage[] =
      "readBatch(fds: Int32Array, n, buf: Uint8Array, cap, maxFile, offs: Int32Array, lens: Int32Array)";
  size_t argc = 7;
  napi_value a[7];
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc != 7) return fail(env, usage);
  void *fds, *buf, *offs, *lens;
  size_t nfds, nbuf, noffs, nlens;
  int32_t n, cap, max_file;
  if (!typed(env, a[0], napi_int32_array, &fds, &nfds) || !typed(env, a[2], napi_uint8_array, &buf, &nbuf) ||
      !typed(env, a[5], napi_int32_array, &offs, &noffs) || !typed(env, a[6], napi_int32_array, &lens, &nlens) ||
      napi_get_value_int32(env, a[1], &n) != napi_ok || napi_get_value_int32(env, a[3], &cap) != napi_ok ||
      napi_get_value_int32(env, a[4], &max_file) != napi_ok)
    return fail(env, usage);
  if (n < 0 || (size_t)n > nfds || (size_t)n > noffs || (size_t)n > nlens || cap < 0 || (size_t)cap > nbuf ||
      max_file < 0)
    return fail(env, "readBatch: n or cap beyond the arrays given");
  return int_value(env, tstop_read_batch(fds, n, buf, cap, max_file, offs, lens));
}

static napi_value read_batch_same_fn(napi_env env, napi_callback_info info) {
  static const char usage[] = "readBatchSame(fds: Int32Array, n, buf: Uint8Array, cap, maxFile, offs: Int32Array, "
                              "lens: Int32Array, prevBuf: Uint8Array, prevOffs: Int32Array, prevLens: Int32Array, "
                              "same: Uint8Array)";
  size_t argc = 11;
  napi_value a[11];
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc != 11) return fail(env, usage);
  void *fds, *buf, *offs, *lens, *prev_buf, *prev_offs, *prev_lens, *same;
  size_t nfds, nbuf, noffs, nlens, nprev_buf, nprev_offs, nprev_lens, nsame;
  int32_t n, cap, max_file;
  if (!typed(env, a[0], napi_int32_array, &fds, &nfds) || !typed(env, a[2], napi_uint8_array, &buf, &nbuf) ||
      !typed(env, a[5], napi_int32_array, &offs, &noffs) || !typed(env, a[6], napi_int32_array, &lens, &nlens) ||
      !typed(env, a[7], napi_uint8_array, &prev_buf, &nprev_buf) ||
      !typed(env, a[8], napi_int32_array, &prev_offs, &nprev_offs) ||
      !typed(env, a[9], napi_int32_array, &prev_lens, &nprev_lens) ||
      !typed(env, a[10], napi_uint8_array, &same, &nsame) || napi_get_value_int32(env, a[1], &n) != napi_ok ||
      napi_get_value_int32(env, a[3], &cap) != napi_ok || napi_get_value_int32(env, a[4], &max_file) != napi_ok)
    return fail(env, usage);
  if (n < 0 || (size_t)n > nfds || (size_t)n > noffs || (size_t)n > nlens || (size_t)n > nprev_offs ||
      (size_t)n > nprev_lens || (size_t)n > nsame || cap < 0 || (size_t)cap > nbuf || max_file < 0)
    return fail(env, "readBatchSame: n or cap beyond the arrays given");
  /* The previous call's files must lie within prevBuf: a stale offset would read beyond it. */
  const int32_t *po = prev_offs, *pl = prev_lens;
  for (int32_t i = 0; i < n; i++)
    if (pl[i] > 0 && (po[i] < 0 || (size_t)po[i] + (size_t)pl[i] > nprev_buf))
      return fail(env, "readBatchSame: a previous file beyond prevBuf");
  return int_value(env, tstop_read_batch_same(fds, n, buf, cap, max_file, offs, lens, prev_buf, prev_offs,
                                               prev_lens, same));
}

static napi_value inotify_init_fn(napi_env env, napi_callback_info info) {
  int32_t flags;
  if (!int_args(env, info, 1, &flags)) return fail(env, "inotifyInit(flags)");
  int fd = inotify_init1(flags);
  return int_value(env, fd < 0 ? -errno : fd);
}

static napi_value inotify_add_watch_fn(napi_env env, napi_callback_info info) {
  size_t argc = 3, len;
  napi_value a[3];
  int32_t fd, mask;
  char path[4096];
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc != 3 || !ints(env, a, 0, 1, &fd) ||
      !ints(env, a, 2, 1, &mask) ||
      napi_get_value_string_utf8(env, a[1], path, sizeof path, &len) != napi_ok)
    return fail(env, "inotifyAddWatch(fd, path: string, mask)");
  if (len >= sizeof path - 1) return int_value(env, -ENAMETOOLONG); /* maybe cut short: never watch another path */
  if (strlen(path) != len) return int_value(env, -EINVAL);          /* a NUL inside would name another path */
  int wd = inotify_add_watch(fd, path, (uint32_t)mask);
  return int_value(env, wd < 0 ? -errno : wd);
}

static napi_value inotify_rm_watch_fn(napi_env env, napi_callback_info info) {
  int32_t v[2];
  if (!int_args(env, info, 2, v)) return fail(env, "inotifyRmWatch(fd, wd)");
  return int_value(env, inotify_rm_watch(v[0], v[1]) < 0 ? -errno : 0);
}

static napi_value read_fn(napi_env env, napi_callback_info info) {
  size_t argc = 2, nbuf;
  napi_value a[2];
  int32_t fd;
  void *buf;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc != 2 || !ints(env, a, 0, 1, &fd) ||
      !typed(env, a[1], napi_uint8_array, &buf, &nbuf))
    return fail(env, "read(fd, buf: Uint8Array)");
  ssize_t got;
  do got = read(fd, buf, nbuf);
  while (got < 0 && errno == EINTR);
  return int_value(env, got < 0 ? -errno : (int32_t)got);
}

static napi_value flock_fn(napi_env env, napi_callback_info info) {
  int32_t v[2];
  if (!int_args(env, info, 2, v)) return fail(env, "flock(fd, operation)");
  return int_value(env, flock(v[0], v[1]) < 0 ? -errno : 0);
}

NAPI_MODULE_INIT() {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"readBatch", read_batch_fn},         {"readBatchSame", read_batch_same_fn},         {"inotifyInit", inotify_init_fn},     {"inotifyAddWatch", inotify_add_watch_fn},
      {"inotifyRmWatch", inotify_rm_watch_fn}, {"read", read_fn},                 {"flock", flock_fn},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value fn;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, fns[i].name, fn) != napi_ok) return NULL;
  }
  return exports;
}
