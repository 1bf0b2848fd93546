/*
 * testload: the real processes the integration tests put in cgroups.
 * A C program because in the v2 test lane (QEMU, software emulation) a Node
 * or Python start costs seconds, and because it must do exactly one thing:
 *
 *   testload [--cgroup PROCS_FILE]... [--ready FILE] MODE [ARGS]
 *     alloc MIB        allocate and touch MIB MiB, then sleep
 *     spin             burn CPU forever
 *     fork N           fork N children that sleep, then sleep (N+1 tasks)
 *     forkcount N      try to fork N sleeping children, print how many succeeded, sleep
 *     count FILE       write an increasing counter to FILE every 10 ms
 *     io FILE MIB      write MIB MiB to FILE with O_DIRECT, fsync, read it back, sleep
 *     sleep            sleep forever
 *     zombies N        fork N children that exit at once and are never reaped
 *     churn SECS LOG DIR...
 *                      for SECS, create about 50 cgroups a second under each
 *                      DIR (one test parent per hierarchy), put a short-lived
 *                      process in every fourth, remove each about 10 creations
 *                      later and log "<name> <epoch ms>" to LOG once removed
 *
 * --cgroup writes 0 (the writer itself) to each cgroup.procs before the
 * mode starts; --ready creates FILE once the work is done (the test waits
 * for it instead of guessing a delay).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
  fprintf(stderr, "testload: %s: %s\n", what, strerror(errno));
  exit(111);
}

static void join_cgroup(const char *procs) {
  int fd = open(procs, O_WRONLY);
  if (fd < 0) die(procs);
  if (write(fd, "0", 1) != 1) die(procs);
  close(fd);
}

static void ready(const char *file) {
  if (!file) return;
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", file);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) die(tmp);
  close(fd);
  if (rename(tmp, file) != 0) die(file);
}

static void sleep_forever(void) {
  for (;;) pause();
}

static void alloc(long mib, const char *ready_file) {
  size_t n = (size_t)mib << 20;
  char *p = malloc(n);
  if (!p) die("malloc");
  for (size_t i = 0; i < n; i += 4096) p[i] = 1; /* touch every page */
  ready(ready_file);
  sleep_forever();
}

static void fork_children(long n, const char *ready_file, int report) {
  long ok = 0;
  for (long i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid == 0) sleep_forever();
    if (pid > 0) ok++;
  }
  if (report) {
    printf("%ld\n", ok);
    fflush(stdout);
  }
  ready(ready_file);
  sleep_forever();
}

static void zombies(long n, const char *ready_file) {
  for (long i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
  }
  ready(ready_file);
  sleep_forever();
}

static void count(const char *file, const char *ready_file) {
  unsigned long c = 0;
  struct timespec ts = {0, 10 * 1000 * 1000};
  ready(ready_file);
  for (;;) {
    char tmp[4096], text[32];
    snprintf(tmp, sizeof tmp, "%s.tmp", file);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die(tmp);
    int len = snprintf(text, sizeof text, "%lu\n", ++c);
    if (write(fd, text, len) != len) die(tmp);
    close(fd);
    rename(tmp, file);
    nanosleep(&ts, NULL);
  }
}

static void io(const char *file, long mib, const char *ready_file) {
  const size_t chunk = 1 << 20;
  void *buf;
  if (posix_memalign(&buf, 4096, chunk) != 0) die("posix_memalign");
  memset(buf, 0x5a, chunk);
  int fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0644);
  if (fd < 0) die(file);
  for (long i = 0; i < mib; i++)
    if (write(fd, buf, chunk) != (ssize_t)chunk) die("write");
  if (fsync(fd) != 0) die("fsync");
  if (lseek(fd, 0, SEEK_SET) != 0) die("lseek");
  for (long i = 0; i < mib; i++)
    if (read(fd, buf, chunk) != (ssize_t)chunk) die("read");
  close(fd);
  ready(ready_file);
  sleep_forever();
}

static long long epoch_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void copy_file(const char *from, const char *to) {
  char buf[256];
  int in = open(from, O_RDONLY);
  if (in < 0) return;
  ssize_t n = read(in, buf, sizeof buf);
  close(in);
  int out = open(to, O_WRONLY);
  if (out < 0) return;
  if (n > 0 && write(out, buf, n) < 0) { /* leave it: the join below reports */ }
  close(out);
}

static void churn(long secs, const char *log, char **dirs, int ndirs) {
  enum { KEEP = 10 };
  FILE *out = fopen(log, "a");
  if (!out) die(log);
  long long end = epoch_ms() + secs * 1000;
  long created = 0, removed = 0;
  struct timespec gap = {0, 20 * 1000 * 1000};
  char path[4096], from[4096];
  while (epoch_ms() < end) {
    for (int d = 0; d < ndirs; d++) {
      snprintf(path, sizeof path, "%s/c%ld", dirs[d], created);
      if (mkdir(path, 0755) != 0) die(path);
      /* a new v1 cpuset takes no task until it has cpus and mems */
      snprintf(from, sizeof from, "%s/cpuset.cpus", dirs[d]);
      if (access(from, F_OK) == 0) {
        snprintf(path, sizeof path, "%s/c%ld/cpuset.cpus", dirs[d], created);
        copy_file(from, path);
        snprintf(from, sizeof from, "%s/cpuset.mems", dirs[d]);
        snprintf(path, sizeof path, "%s/c%ld/cpuset.mems", dirs[d], created);
        copy_file(from, path);
      }
    }
    if (created % 4 == 0) {
      /* the child says when it has joined, so its cgroup is never removed before it is in */
      int joined[2];
      if (pipe(joined) != 0) die("pipe");
      pid_t pid = fork();
      if (pid == 0) {
        for (int d = 0; d < ndirs; d++) {
          snprintf(path, sizeof path, "%s/c%ld/cgroup.procs", dirs[d], created);
          join_cgroup(path);
        }
        if (write(joined[1], "j", 1) != 1) _exit(1);
        usleep(50 * 1000);
        _exit(0);
      }
      char c;
      close(joined[1]);
      if (read(joined[0], &c, 1) != 1) die("child did not join");
      close(joined[0]);
    }
    created++;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    if (created - removed > KEEP) {
      for (int d = 0; d < ndirs; d++) {
        snprintf(path, sizeof path, "%s/c%ld", dirs[d], removed);
        for (int tries = 0; rmdir(path) != 0; tries++) {
          if (tries > 100) die(path); /* its process should be long gone */
          usleep(10 * 1000);
          while (waitpid(-1, NULL, WNOHANG) > 0) {
          }
        }
      }
      fprintf(out, "c%ld %lld\n", removed, epoch_ms());
      fflush(out);
      removed++;
    }
    nanosleep(&gap, NULL);
  }
  while (wait(NULL) > 0) {
  }
  for (; removed < created; removed++)
    for (int d = 0; d < ndirs; d++) {
      snprintf(path, sizeof path, "%s/c%ld", dirs[d], removed);
      rmdir(path);
    }
  fprintf(out, "done %ld\n", created);
  fclose(out);
  exit(0);
}

int main(int argc, char **argv) {
  const char *ready_file = NULL;
  int i = 1;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--cgroup") == 0 && i + 1 < argc) join_cgroup(argv[++i]);
    else if (strcmp(argv[i], "--ready") == 0 && i + 1 < argc) ready_file = argv[++i];
    else break;
  }
  if (i >= argc) {
    fprintf(stderr, "usage: testload [--cgroup PROCS]... [--ready FILE] MODE [ARGS]\n");
    return 2;
  }
  const char *mode = argv[i];
  const char *arg1 = i + 1 < argc ? argv[i + 1] : NULL;
  const char *arg2 = i + 2 < argc ? argv[i + 2] : NULL;
  signal(SIGCHLD, SIG_DFL);
  if (strcmp(mode, "alloc") == 0 && arg1) alloc(atol(arg1), ready_file);
  if (strcmp(mode, "spin") == 0) {
    ready(ready_file);
    for (volatile unsigned long x = 0;; x++) {
    }
  }
  if (strcmp(mode, "fork") == 0 && arg1) fork_children(atol(arg1), ready_file, 0);
  if (strcmp(mode, "forkcount") == 0 && arg1) fork_children(atol(arg1), ready_file, 1);
  if (strcmp(mode, "zombies") == 0 && arg1) zombies(atol(arg1), ready_file);
  if (strcmp(mode, "count") == 0 && arg1) count(arg1, ready_file);
  if (strcmp(mode, "io") == 0 && arg1 && arg2) io(arg1, atol(arg2), ready_file);
  if (strcmp(mode, "churn") == 0 && arg1 && arg2 && i + 3 < argc) churn(atol(arg1), arg2, argv + i + 3, argc - i - 3);
  if (strcmp(mode, "sleep") == 0) {
    ready(ready_file);
    sleep_forever();
  }
  fprintf(stderr, "testload: unknown mode or missing argument: %s\n", mode);
  return 2;
}
