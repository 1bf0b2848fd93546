/* A copy of a file in a memfd sealed against any change (F_SEAL_WRITE,
 * GROW, SHRINK, then F_SEAL_SEAL): what the helper runs from (sealed.c).
 * Made by the helper of itself, or by the exec addon before it execs the
 * helper (native/exec/exec.c), so one copy of the code serves both. */
#ifndef TSTOP_SEALED_COPY_H
#define TSTOP_SEALED_COPY_H

#include <errno.h>
#include <fcntl.h>
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

/* The sealed copy of path (close-on-exec), the memfd named name; -1 with errno set. */
static inline int sealed_copy_of(const char *path, const char *name) {
  int src = open(path, O_RDONLY | O_CLOEXEC);
  if (src < 0) return -1;
  struct stat st;
  int mem = fstat(src, &st) == 0 ? (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC | MFD_ALLOW_SEALING) : -1;
  for (off_t done = 0; mem >= 0 && done < st.st_size;) {
    ssize_t n = sendfile(mem, src, NULL, (size_t)(st.st_size - done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO; /* 0: the file shrank under us */
      close(mem);
      errno = err;
      mem = -1;
      break;
    }
    done += n;
  }
  if (mem >= 0 && fcntl(mem, F_ADD_SEALS, SEALS) < 0) {
    int err = errno;
    close(mem);
    errno = err;
    mem = -1;
  }
  int err = errno;
  close(src);
  errno = err;
  return mem;
}

#endif
