/* CVE-2019-5736 class: a process in a container must never reach the
 * helper's binary on the host. Two guards, as runc has:
 *
 *  - The helper runs from a sealed memfd copy of itself: /proc/<pid>/exe of
 *    every helper process (the exec child that joins a container, the init
 *    that is PID 1 of one) is an anonymous in-memory file whose contents
 *    the kernel refuses to change (F_SEAL_WRITE/GROW/SHRINK, then
 *    F_SEAL_SEAL), never native/build/tstop-helper.
 *  - It is non-dumpable until execve: /proc/<pid>/exe, fd/, mem of a helper
 *    process need CAP_SYS_PTRACE to open, which containers do not have.
 *    execve of the workload makes the new image dumpable again. */
#include "helper.h"
#include "sealed-copy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

/* True when we already run from a sealed copy (after the re-exec). */
static int running_sealed(void) {
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  int seals = fcntl(fd, F_GET_SEALS);
  close(fd);
  return seals >= 0 && (seals & SEALS) == SEALS;
}

void reexec_sealed(char **argv) {
  if (!running_sealed()) {
    trace("reexec");
    int mem = sealed_copy_of("/proc/self/exe", "tstop-helper");
    if (mem < 0) fail_errno(EXIT_HELPER, "copy the helper (/proc/self/exe) into a sealed memfd");
    /* fds 3 (spec) and 4 (report) are not close-on-exec: they survive. */
    syscall(SYS_execveat, mem, "", argv, environ, AT_EMPTY_PATH);
    fail_errno(EXIT_HELPER, "execveat(sealed memfd copy of the helper)");
  }
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) fail_errno(EXIT_HELPER, "prctl(PR_SET_DUMPABLE, 0)");
}
