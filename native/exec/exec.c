/* tstop-exec.node: execve(2) for Node 20, which has no process.execve.
 * `tstop run` (src/launcher/run.ts) prepares a foreground container and then
 * becomes the helper (native/src/owner.c) instead of spawning it and waiting:
 * Node's child_process, its event loop around the wait and its exit are
 * ~20 ms of CPU per launch (docs/benchmarks.md).
 *
 *   exec(path, argv[], env[], keepFd) -> errno (it returns only on failure)
 *
 * Node marks every fd close-on-exec at start, stdio included: stdin, stdout,
 * stderr and keepFd (the spec file tstop opened) are made to survive the
 * exec; everything else Node opened stays close-on-exec. N-API only: no node-gyp, built with the helper by
 * native/build.mjs against the headers of the node that builds it. */
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_STRINGS 4096

static char *string_of(napi_env env, napi_value v) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (s && napi_get_value_string_utf8(env, v, s, len + 1, &len) != napi_ok) {
    free(s);
    return NULL;
  }
  return s;
}

/* A NULL-terminated copy of a JS array of strings; NULL when it is not one. */
static char **strings_of(napi_env env, napi_value a) {
  uint32_t n;
  if (napi_get_array_length(env, a, &n) != napi_ok || n > MAX_STRINGS) return NULL;
  char **v = calloc((size_t)n + 1, sizeof *v);
  for (uint32_t i = 0; v && i < n; i++) {
    napi_value e;
    if (napi_get_element(env, a, i, &e) != napi_ok || !(v[i] = string_of(env, e))) return NULL;
  }
  return v;
}

static napi_value exec_fn(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value args[4];
  int32_t keep = -1;
  char *path = NULL, **argv = NULL, **envp = NULL;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc != 4) {
    napi_throw_type_error(env, NULL, "exec(path, argv, env, keepFd)");
    return NULL;
  }
  path = string_of(env, args[0]);
  argv = strings_of(env, args[1]);
  envp = strings_of(env, args[2]);
  if (!path || !argv || !argv[0] || !envp || napi_get_value_int32(env, args[3], &keep) != napi_ok || keep < 3) {
    napi_throw_type_error(env, NULL, "exec(path: string, argv: string[] (not empty), env: string[], keepFd: >= 3)");
    return NULL;
  }
  int fds[] = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, keep}, saved[4], err = 0;
  for (int i = 0; i < 4; i++) {
    saved[i] = fcntl(fds[i], F_GETFD);
    if (saved[i] >= 0 && fcntl(fds[i], F_SETFD, saved[i] & ~FD_CLOEXEC) < 0 && i == 3) err = errno;
  }
  if (!err) {
    execve(path, argv, envp);
    err = errno;
  }
  for (int i = 0; i < 4; i++)
    if (saved[i] >= 0) fcntl(fds[i], F_SETFD, saved[i]);
  napi_value r;
  napi_create_int32(env, err, &r);
  return r; /* the copies are left to the process: it is about to fail the launch */
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "exec", NAPI_AUTO_LENGTH, exec_fn, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "exec", fn) != napi_ok) return NULL;
  return exports;
}
