/* Cgroup placement. tstop prepares the cgroups; the helper only moves
 * processes. The workload must start inside its cgroups, so placement
 * happens before any child exists:
 *  - a cgroup2 entry can be entered atomically at creation time with
 *    clone3(CLONE_INTO_CGROUP), which also keeps the helper itself outside;
 *  - everything else (v1 hierarchies, or kernels without clone3) is joined
 *    by writing the helper's own pid to cgroup.procs, so children inherit. */
#include "helper.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static int dir_of(const char *procs_path, char *dir, size_t size) {
  const char *slash = strrchr(procs_path, '/');
  if (!slash || slash == procs_path || (size_t)(slash - procs_path) >= size) return -1;
  memcpy(dir, procs_path, (size_t)(slash - procs_path));
  dir[slash - procs_path] = '\0';
  return 0;
}

/* Returns an fd for the single cgroup2 directory listed in the spec (for
 * CLONE_INTO_CGROUP) and stores its index, or -1 when there is none (or more
 * than one, which the kernel could not honour anyway). */
int cgroup_clone_dir(const struct spec *s, size_t *index) {
  if (!s->cgroup_clone) return -1;
  int found = -1;
  for (size_t i = 0; i < s->cgroup_procs.n; i++) {
    char dir[PATH_MAX];
    struct statfs sf;
    if (dir_of(s->cgroup_procs.v[i], dir, sizeof dir) < 0) continue;
    if (statfs(dir, &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC) continue;
    if (found >= 0) return -1;
    found = (int)i;
  }
  if (found < 0) return -1;
  char dir[PATH_MAX];
  dir_of(s->cgroup_procs.v[found], dir, sizeof dir);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1; /* fall back to cgroup.procs, which reports the error */
  *index = (size_t)found;
  return fd;
}

/* Join the listed cgroups by writing our own pid, skipping `skip` (the entry
 * handled by CLONE_INTO_CGROUP; pass (size_t)-1 for none). */
void cgroup_join_self(const struct spec *s, size_t skip) {
  char pid[32];
  snprintf(pid, sizeof pid, "%d", (int)getpid());
  for (size_t i = 0; i < s->cgroup_procs.n; i++) {
    if (i == skip) continue;
    if (write_file(s->cgroup_procs.v[i], pid) < 0)
      fail_errno(EXIT_HELPER, "join cgroup (write %s to %s)", pid, s->cgroup_procs.v[i]);
  }
  if (s->cgroup_procs.n) trace("cgroup-joined");
}
