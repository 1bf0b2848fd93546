/*
 * floor: the cost of reading tstop's files from C, the same files with the
 * same method as one tstop tick (a list traced from a real tick): files tstop
 * keeps open are opened once and re-read with pread at offset 0; files tstop
 * opens, reads and closes each tick (v1 cgroup.procs, files past its
 * descriptor budget, procfs) are done the same way here. No parsing: this is
 * the floor of the kernel work, not a second collector.
 *
 *   floor LIST TICKS   LIST lines are "pread PATH" or "open-read-close PATH"
 * Prints one line per tick: wall milliseconds, then CPU milliseconds (user +
 * system of this process: on a shared host the fairer figure).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct entry {
  char *path;
  int keep;
  int fd;
};

static double clock_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: floor LIST TICKS\n");
    return 2;
  }
  FILE *list = fopen(argv[1], "r");
  if (!list) {
    perror(argv[1]);
    return 1;
  }
  int ticks = atoi(argv[2]);
  size_t cap = 1024, n = 0;
  struct entry *e = malloc(cap * sizeof *e);
  char line[8192];
  while (fgets(line, sizeof line, list)) {
    line[strcspn(line, "\n")] = 0;
    char *sp = strchr(line, ' ');
    if (!sp) continue;
    *sp = 0;
    if (n == cap) e = realloc(e, (cap *= 2) * sizeof *e);
    e[n].keep = strcmp(line, "pread") == 0;
    e[n].path = strdup(sp + 1);
    e[n].fd = -1;
    n++;
  }
  fclose(list);
  static char buf[1 << 16];
  for (size_t i = 0; i < n; i++)
    if (e[i].keep) e[i].fd = open(e[i].path, O_RDONLY | O_CLOEXEC);
  for (int t = 0; t < ticks; t++) {
    double start = clock_ms(CLOCK_MONOTONIC);
    double cpu = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    for (size_t i = 0; i < n; i++) {
      if (e[i].keep) {
        if (e[i].fd >= 0 && pread(e[i].fd, buf, sizeof buf, 0) < 0) { /* gone: fine */ }
      } else {
        int fd = open(e[i].path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
          if (read(fd, buf, sizeof buf) < 0) { /* fine */ }
          close(fd);
        }
      }
    }
    printf("%.3f %.3f\n", clock_ms(CLOCK_MONOTONIC) - start, clock_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu);
  }
  return 0;
}
