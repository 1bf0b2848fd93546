/* tstop-exec.node: execve(2) for Node 20, which has no process.execve.
 * `tstop run` (src/launcher/run.ts) prepares a foreground container and then
 * becomes the helper (native/src/owner.c) instead of spawning it and waiting:
 * Node's child_process, its event loop around the wait and its exit are
 * ~20 ms of CPU per launch (docs/benchmarks.md).
 *
 *   exec(path, argv[], env[], keepFd[, sealedName]) -> errno (it returns only on failure)
 *
 * With sealedName, the program runs from a sealed memfd copy of itself (so
 * named), the copy the helper would otherwise make and re-exec itself into
 * (native/src/sealed.c, which checks the seals and finds nothing left to
 * do): one exec of the helper fewer, ~0.7 ms. If the kernel refuses to exec
 * the copy, path is exec'd and the helper makes its own.
 *
 * Node marks every fd close-on-exec at start, stdio included: stdin, stdout,
 * stderr and keepFd (the spec file tstop opened) are made to survive the
 * exec; everything else Node opened stays close-on-exec. N-API only: no node-gyp, built with the helper by
 * native/build.mjs against the headers of the node that builds it.
 *
 * Node's address space (~40 MB mapped, its heaps) is freed by whoever drops
 * the last reference to it. Left to the execve, that is tstop's own process,
 * before the helper's first instruction: ~1-1.5 ms of a launch. Instead a
 * holder, a child sharing that address space (CLONE_VM, no thread of ours),
 * keeps it until the execve has replaced it in tstop's process (the execve
 * closes the holder's pipe), then exits and frees it on its own time. The
 * holder keeps no other descriptor and runs nothing but read and exit; the
 * helper reaps it (native/src/relay.c). Without it (clone refused) the
 * execve frees the memory itself, as before. */
#define _GNU_SOURCE
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../src/sealed-copy.h"

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

#define HOLDER_STACK_BYTES (64 * 1024)

struct holder {
  int read_end, write_end, close_range_works;
};

/* The holder: keeps only its pipe's read end, waits for end of file (the
 * execve closed tstop's write end, or tstop died), and exits, freeing the
 * address space it is the last user of. Only system calls that cannot fail
 * here: it shares Node's memory, errno included, with tstop's thread. */
static int holder_main(void *arg) {
  const struct holder *h = arg;
  int read_end = h->read_end;
  syscall(SYS_close, h->write_end); /* first: with it open the holder would wait forever */
  if (h->close_range_works) {
    syscall(SYS_close_range, 0U, (unsigned)read_end - 1, 0U); /* read_end > 2: stdio is open */
    syscall(SYS_close_range, (unsigned)read_end + 1, ~0U, 0U);
  }
  char byte;
  syscall(SYS_read, read_end, &byte, 1); /* no signal can interrupt it: all are blocked */
  syscall(SYS_exit, 0);
  return 0;
}

/* Starts the holder; returns the write end tstop keeps (close-on-exec), or -1 without one. */
static int start_holder(void) {
  static struct holder h;
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return -1;
  h.read_end = p[0];
  h.write_end = p[1];
  /* Linux 5.9+; without it the holder keeps copies of tstop's descriptors for its short life. */
  h.close_range_works = syscall(SYS_close_range, ~0U, ~0U, 0U) == 0;
  /* Never unmapped: after the execve it is the holder's, in a memory nobody else uses. */
  char *stack = mmap(NULL, HOLDER_STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  pid_t pid = -1;
  if (stack != MAP_FAILED) {
    /* No signal handler of Node's may run on the holder's stack: it starts with all blocked. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid = clone(holder_main, stack + HOLDER_STACK_BYTES, CLONE_VM | SIGCHLD, &h);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  }
  close(p[0]);
  if (pid < 0) {
    close(p[1]);
    return -1;
  }
  return p[1];
}

static napi_value exec_fn(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value args[5];
  int32_t keep = -1;
  char *path = NULL, **argv = NULL, **envp = NULL, *sealed_name = NULL;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 4 || argc > 5) {
    napi_throw_type_error(env, NULL, "exec(path, argv, env, keepFd[, sealedName])");
    return NULL;
  }
  napi_valuetype sealed_type = napi_undefined;
  if (argc == 5 && napi_typeof(env, args[4], &sealed_type) == napi_ok && sealed_type != napi_undefined &&
      (sealed_type != napi_string || !(sealed_name = string_of(env, args[4])))) {
    napi_throw_type_error(env, NULL, "exec: sealedName must be a string");
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
    int mem = sealed_name ? sealed_copy_of(path, sealed_name) : -1;
    int holder = start_holder();
    if (mem >= 0) {
      syscall(SYS_execveat, mem, "", argv, envp, AT_EMPTY_PATH);
      close(mem); /* refused (an old kernel, memfds not executable): the plain file */
    }
    execve(path, argv, envp);
    err = errno;
    if (holder >= 0) close(holder); /* the holder exits */
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
