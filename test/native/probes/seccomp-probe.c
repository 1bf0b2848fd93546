/* Seccomp probe for test/native/seccomp.test.ts: PID 1 of a test container
 * (refuses anything else) tries the calls Docker's default profile denies
 * and prints one line per call: "NAME ok" or "NAME <errno name>". The
 * calls are harmless in a container even when allowed (a new user
 * namespace of its own, a key in its own session keyring, a perf counter
 * of itself, an io_uring, a userfaultfd). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *name, long rc) {
  if (rc >= 0) printf("%s ok\n", name);
  else printf("%s %s\n", name, errno == EPERM ? "EPERM" : errno == ENOSYS ? "ENOSYS" : strerror(errno));
}

int main(void) {
  if (getpid() != 1) {
    fprintf(stderr, "seccomp-probe: refusing to run: not PID 1 of a container\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  int mode;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "Seccomp: %d", &mode) == 1) printf("seccomp %d\n", mode);
  if (f) fclose(f);
  /* KEYCTL_GET_KEYRING_ID = 0, KEY_SPEC_SESSION_KEYRING = -3 */
  show("keyctl", syscall(SYS_keyctl, 0, -3, 0));
  show("add_key", syscall(SYS_add_key, "user", "tstop-probe", "x", 1, -3));
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.size = sizeof attr;
  attr.config = PERF_COUNT_SW_TASK_CLOCK;
  attr.disabled = 1;
  attr.exclude_kernel = 1;
  show("perf_event_open", syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
  char params[120];
  memset(params, 0, sizeof params);
  show("io_uring_setup", syscall(SYS_io_uring_setup, 1, params));
  show("userfaultfd", syscall(SYS_userfaultfd, 1 /* UFFD_USER_MODE_ONLY: no privilege needed */));
  show("personality_addr_no_randomize", personality(ADDR_NO_RANDOMIZE));
  show("personality_query", personality(0xffffffff));
  show("getpid", syscall(SYS_getpid));
  /* last: the process stays in the new user namespace */
  show("unshare_user", unshare(CLONE_NEWUSER));
  return 0;
}
