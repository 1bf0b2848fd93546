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

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#define F_SEAL_WRITE 0x0008
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#define MFD_ALLOW_SEALING 0x0002U
#endif

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

/* True when we already run from a sealed copy (after the re-exec). */
static int running_sealed(void) {
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  int seals = fcntl(fd, F_GET_SEALS);
  close(fd);
  return seals >= 0 && (seals & SEALS) == SEALS;
}

static int sealed_copy(void) {
  int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (src < 0) fail_errno(EXIT_HELPER, "open /proc/self/exe (to copy the helper into a sealed memfd)");
  struct stat st;
  if (fstat(src, &st) < 0) fail_errno(EXIT_HELPER, "fstat /proc/self/exe");
  int mem = (int)syscall(SYS_memfd_create, "tstop-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mem < 0) fail_errno(EXIT_HELPER, "memfd_create (sealed copy of the helper)");
  for (off_t done = 0; done < st.st_size;) {
    ssize_t n = sendfile(mem, src, NULL, (size_t)(st.st_size - done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_errno(EXIT_HELPER, "copy the helper into a memfd");
    done += n;
  }
  close(src);
  if (fcntl(mem, F_ADD_SEALS, SEALS) < 0) fail_errno(EXIT_HELPER, "seal the helper's memfd copy");
  return mem;
}

void reexec_sealed(char **argv) {
  if (!running_sealed()) {
    trace("reexec");
    int mem = sealed_copy();
    /* fds 3 (spec) and 4 (report) are not close-on-exec: they survive. */
    syscall(SYS_execveat, mem, "", argv, environ, AT_EMPTY_PATH);
    fail_errno(EXIT_HELPER, "execveat(sealed memfd copy of the helper)");
  }
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) fail_errno(EXIT_HELPER, "prctl(PR_SET_DUMPABLE, 0)");
}
