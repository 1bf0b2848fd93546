/* Mount namespace setup, run in the child (PID 1 of the new namespaces)
 * before credentials are dropped.
 *
 * Without rootfs: keep the host's root in a private mount namespace, but give
 * the container its own /proc (new PID ns) and /sys (new net ns), so it sees
 * only its processes and interfaces.
 * With rootfs: build /proc, /dev, /sys under the rootfs, pivot_root into it
 * and detach the host's tree. Both then apply Docker's masked and read-only
 * paths.
 *
 * Every mount target inside a rootfs is resolved inside it (openat2 with
 * RESOLVE_IN_ROOT from the rootfs, so a symlink `data -> /srv/x` in the
 * image means <rootfs>/srv/x, never the host's /srv/x), created with
 * mkdirat/openat relative to a resolved parent, and mounted through
 * /proc/self/fd/N: nothing is created or mounted outside the rootfs. */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MS_SAFE (MS_NOSUID | MS_NODEV | MS_NOEXEC)

static void path_join(char *out, const char *root, const char *p) {
  if (snprintf(out, PATH_MAX, "%s%s", root, p) >= PATH_MAX)
    fail(EXIT_HELPER, "path too long: %s%s", root, p);
}

static void sub_path(char *out, const char *dir, const char *name) {
  if (snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
    fail(EXIT_HELPER, "path too long: %s/%s", dir, name);
}

static void mkdir_p(const char *path, mode_t mode) {
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(buf, mode) < 0 && errno != EEXIST) fail_errno(EXIT_HELPER, "mkdir(%s)", buf);
      if (c == '\0') break;
      *p = c;
    }
  }
}

static void do_mount(const char *src, const char *dst, const char *type, unsigned long flags,
                     const char *data) {
  if (mount(src, dst, type, flags, data) < 0)
    fail_errno(EXIT_HELPER, "mount %s on %s (%s)", src ? src : "none", dst, type ? type : "bind");
}

/* Read-only remount of a bind mount. The kernel refuses (EPERM) to clear
 * flags that are locked on the mount (nosuid, nodev... inherited from a
 * more privileged namespace), so keep whatever flags it already has. */
static void remount_ro(const char *path) {
  struct statvfs sv;
  if (statvfs(path, &sv) < 0) fail_errno(EXIT_HELPER, "statvfs(%s)", path);
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
  if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  if (mount(NULL, path, NULL, flags, NULL) < 0) fail_errno(EXIT_HELPER, "remount read-only %s", path);
}

/* Our mounts must not propagate back to the host (and vice versa). */
static void make_private(void) {
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    fail_errno(EXIT_HELPER, "make mounts private (mount / MS_REC|MS_PRIVATE)");
}

static void mount_proc(const char *target) {
  mkdir_p(target, 0555);
  do_mount("proc", target, "proc", MS_SAFE, NULL);
}

/* A fresh sysfs shows the mounting process's network namespace. The kernel
 * refuses it (EPERM) in a user namespace that does not own the net ns; then
 * fall back to a read-only bind of the host's /sys, like Docker. */
static void mount_sysfs(const char *target) {
  mkdir_p(target, 0555);
  if (mount("sysfs", target, "sysfs", MS_SAFE | MS_RDONLY, NULL) == 0) return;
  if (errno != EPERM) fail_errno(EXIT_HELPER, "mount sysfs on %s", target);
  do_mount("/sys", target, NULL, MS_BIND | MS_REC, NULL);
  remount_ro(target);
}

/* Device node, or (in a user namespace, where mknod is EPERM) a bind mount
 * of the host's node onto an empty file. */
static void make_dev(const char *dev, const char *name, unsigned maj, unsigned min) {
  char path[PATH_MAX], host[PATH_MAX];
  sub_path(path, dev, name);
  if (mknod(path, S_IFCHR | 0666, makedev(maj, min)) == 0) {
    if (chmod(path, 0666) < 0) fail_errno(EXIT_HELPER, "chmod(%s)", path);
    return;
  }
  if (errno != EPERM) fail_errno(EXIT_HELPER, "mknod(%s)", path);
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) fail_errno(EXIT_HELPER, "create %s", path);
  close(fd);
  sub_path(host, "/dev", name);
  do_mount(host, path, NULL, MS_BIND, NULL);
}

/* --device: "TYPE:MAJ:MIN:MODE:PATH:HOSTPATH", PATH under /dev (the fresh
 * tmpfs made here, so nothing in the rootfs can redirect it). In a user
 * namespace, where mknod is EPERM, the host's node is bound instead. */
static void make_extra_device(const char *dev, const char *entry) {
  char type, cpath[PATH_MAX], host[PATH_MAX], path[PATH_MAX];
  unsigned maj, min, mode;
  int used = 0;
  if (sscanf(entry, "%c:%u:%u:%o:%n", &type, &maj, &min, &mode, &used) != 4 || !used ||
      (type != 'b' && type != 'c'))
    fail(EXIT_HELPER, "spec: device_node=%s: expected TYPE:MAJOR:MINOR:MODE:PATH:HOSTPATH", entry);
  const char *rest = entry + used, *colon = strchr(rest, ':');
  if (!colon || (size_t)(colon - rest) >= sizeof cpath)
    fail(EXIT_HELPER, "spec: device_node=%s: expected PATH:HOSTPATH", entry);
  memcpy(cpath, rest, (size_t)(colon - rest));
  cpath[colon - rest] = '\0';
  snprintf(host, sizeof host, "%s", colon + 1);
  if (strncmp(cpath, "/dev/", 5) != 0 || strstr(cpath, "/..") || strstr(cpath, "/./"))
    fail(EXIT_HELPER, "device %s: the path in the container must be under /dev/, without . or ..", cpath);
  path_join(path, dev, cpath + 4);
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%s", path);
  *strrchr(parent, '/') = '\0';
  mkdir_p(parent, 0755);
  unlink(path); /* --device /dev/null:/dev/null replaces ours */
  mode_t kind = type == 'b' ? S_IFBLK : S_IFCHR;
  if (mknod(path, kind | (mode & 07777), makedev(maj, min)) == 0) {
    if (chmod(path, mode & 07777) < 0) fail_errno(EXIT_HELPER, "chmod(%s)", path);
    return;
  }
  if (errno != EPERM) fail_errno(EXIT_HELPER, "mknod(%s)", path);
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) fail_errno(EXIT_HELPER, "create %s", path);
  close(fd);
  do_mount(host, path, NULL, MS_BIND, NULL);
}

static void make_symlink(const char *target, const char *dev, const char *name) {
  char path[PATH_MAX];
  sub_path(path, dev, name);
  if (symlink(target, path) < 0 && errno != EEXIST) fail_errno(EXIT_HELPER, "symlink(%s)", path);
}

/* A minimal /dev like Docker's: a small tmpfs (mounted by the caller on
 * `dev`) with the safe character devices, a private devpts instance,
 * /dev/shm and /dev/mqueue. */
static void populate_dev(const char *dev, const struct strlist *extra) {
  char sub[PATH_MAX];
  static const struct { const char *name; unsigned maj, min; } nodes[] = {
      {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
      {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
  };
  for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
    make_dev(dev, nodes[i].name, nodes[i].maj, nodes[i].min);

  /* newinstance: ptys of the container are invisible to the host's
   * /dev/pts and vice versa. gid=5 (tty) may be unmapped in a user ns. */
  path_join(sub, dev, "/pts");
  mkdir_p(sub, 0755);
  if (mount("devpts", sub, "devpts", MS_NOSUID | MS_NOEXEC,
            "newinstance,ptmxmode=0666,mode=0620,gid=5") < 0)
    do_mount("devpts", sub, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620");
  make_symlink("pts/ptmx", dev, "ptmx");

  path_join(sub, dev, "/shm");
  mkdir_p(sub, 01777);
  do_mount("shm", sub, "tmpfs", MS_SAFE, "mode=1777,size=65536k");

  /* mqueue shows the mounter's IPC namespace; a user ns that does not own
   * it gets EPERM, and the container just has no /dev/mqueue then. */
  path_join(sub, dev, "/mqueue");
  mkdir_p(sub, 0755);
  if (mount("mqueue", sub, "mqueue", MS_SAFE, NULL) < 0 && errno != EPERM)
    fail_errno(EXIT_HELPER, "mount mqueue on %s", sub);

  for (size_t i = 0; i < extra->n; i++) make_extra_device(dev, extra->v[i]);

  make_symlink("/proc/self/fd", dev, "fd");
  make_symlink("/proc/self/fd/0", dev, "stdin");
  make_symlink("/proc/self/fd/1", dev, "stdout");
  make_symlink("/proc/self/fd/2", dev, "stderr");
}

/* The rootfs, O_PATH, opened once the rootfs is a mount point; and the
 * targets in_root opened, closed once the rootfs is set up. */
static int g_root_fd = -1;
static int g_target_fds[64];
static size_t g_ntarget_fds;

static void close_targets(void) {
  for (size_t i = 0; i < g_ntarget_fds; i++) close(g_target_fds[i]);
  g_ntarget_fds = 0;
  if (g_root_fd >= 0) close(g_root_fd);
  g_root_fd = -1;
}

static int open_in_root(const char *rel, int flags) {
  struct open_how how = {
      .flags = (uint64_t)(flags | O_PATH | O_CLOEXEC),
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  int fd = (int)syscall(SYS_openat2, g_root_fd, rel, &how, sizeof how);
  if (fd < 0 && errno == ENOSYS)
    fail(EXIT_HELPER, "openat2 is not available (Linux 5.6 or later is needed to resolve mount targets inside the rootfs)");
  return fd;
}

/* "a/b/c" -> parent "a/b" (or "" for the root) and name "c". */
static void split_rel(const char *rel, char *parent, const char **name) {
  snprintf(parent, PATH_MAX, "%s", rel);
  char *slash = strrchr(parent, '/');
  if (slash) {
    *slash = '\0';
    *name = rel + (slash - parent) + 1;
  } else {
    parent[0] = '\0';
    *name = rel;
  }
}

/* A directory inside the rootfs, made (with its parents) where missing. A
 * symlink on the way is followed inside the rootfs, and what it names is
 * made there too. Returns an O_PATH fd. */
static int dir_in_root(const char *rel, int depth) {
  if (depth > 40) fail(EXIT_HELPER, "mount target %s: too many levels of symbolic links", rel);
  if (!*rel) return open_in_root(".", O_DIRECTORY);
  int fd = open_in_root(rel, O_DIRECTORY);
  if (fd >= 0) return fd;
  if (errno != ENOENT) fail_errno(EXIT_HELPER, "mount target %s (inside the rootfs)", rel);
  char parent[PATH_MAX];
  const char *name;
  split_rel(rel, parent, &name);
  int pfd = dir_in_root(parent, depth + 1);
  if (mkdirat(pfd, name, 0755) < 0) {
    char link[PATH_MAX], next[PATH_MAX];
    ssize_t n = errno == EEXIST ? readlinkat(pfd, name, link, sizeof link - 1) : -1;
    if (n < 0) fail_errno(EXIT_HELPER, "mount target %s: mkdir %s inside the rootfs", rel, name);
    link[n] = '\0';
    /* A dangling symlink: make what it names, inside the rootfs. */
    if (snprintf(next, sizeof next, "%s%s%s", link[0] == '/' ? "" : parent, link[0] == '/' || !*parent ? "" : "/",
                 link[0] == '/' ? link + 1 : link) >= (int)sizeof next)
      fail(EXIT_HELPER, "mount target %s: path too long", rel);
    close(dir_in_root(next, depth + 1));
  }
  close(pfd);
  fd = open_in_root(rel, O_DIRECTORY);
  if (fd < 0) fail_errno(EXIT_HELPER, "mount target %s (inside the rootfs)", rel);
  return fd;
}

/* An existing or new empty regular file inside the rootfs (O_PATH fd). */
static int file_in_root(const char *rel) {
  int fd = open_in_root(rel, 0);
  if (fd >= 0) return fd;
  if (errno != ENOENT) fail_errno(EXIT_HELPER, "mount target %s (inside the rootfs)", rel);
  char parent[PATH_MAX];
  const char *name;
  split_rel(rel, parent, &name);
  int pfd = dir_in_root(parent, 0);
  int nfd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (nfd < 0) fail_errno(EXIT_HELPER, "mount target %s: create %s inside the rootfs", rel, name);
  close(nfd);
  close(pfd);
  fd = open_in_root(rel, 0);
  if (fd < 0) fail_errno(EXIT_HELPER, "mount target %s (inside the rootfs)", rel);
  return fd;
}

/* A mount target inside the rootfs as "/proc/self/fd/N" ('d': a directory,
 * 'f': a file, made if missing; 0: must exist). Called again after a mount
 * to reach the new mount (the old fd still names what is underneath). The
 * fds are closed by close_targets once the rootfs is built. */
static const char *in_root(const char *path, int kind, char *out) {
  while (*path == '/') path++;
  int fd;
  if (kind == 'd') fd = dir_in_root(path, 0);
  else if (kind == 'f') fd = file_in_root(path);
  else if ((fd = open_in_root(*path ? path : ".", 0)) < 0) fail_errno(EXIT_HELPER, "/%s inside the rootfs", path);
  if (g_ntarget_fds < sizeof g_target_fds / sizeof g_target_fds[0]) g_target_fds[g_ntarget_fds++] = fd;
  snprintf(out, PATH_MAX, "/proc/self/fd/%d", fd);
  return out;
}

/* Volume: bind SRC onto DST inside the rootfs, on a directory or an empty
 * file made for it there. */
static void mount_volume(const struct volume *v) {
  char target[PATH_MAX];
  struct stat st;
  if (strstr(v->dst, "/../") || (strlen(v->dst) >= 3 && strcmp(v->dst + strlen(v->dst) - 3, "/..") == 0))
    fail(EXIT_HELPER, "mount target %s: \"..\" is not allowed", v->dst);
  if (stat(v->src, &st) < 0) fail_errno(EXIT_HELPER, "mount source %s", v->src);
  in_root(v->dst, S_ISDIR(st.st_mode) ? 'd' : 'f', target);
  do_mount(v->src, target, NULL, MS_BIND | MS_REC, NULL);
  if (v->ro) remount_ro(in_root(v->dst, 0, target));
}

/* pivot_root(".", ".") stacks the old root on top of the new one; detaching
 * it leaves only the rootfs, with no put_old directory needed. */
static void pivot_into(const char *root) {
  if (chdir(root) < 0) fail_errno(EXIT_HELPER, "chdir(%s)", root);
  if (syscall(SYS_pivot_root, ".", ".") < 0) fail_errno(EXIT_HELPER, "pivot_root(%s)", root);
  if (umount2(".", MNT_DETACH) < 0) fail_errno(EXIT_HELPER, "detach old root (umount2 MNT_DETACH)");
  if (chdir("/") < 0) fail_errno(EXIT_HELPER, "chdir(/)");
}

/* Docker's maskedPaths: /dev/null over files, an empty read-only tmpfs
 * over directories. Missing paths are fine (kernel-dependent). */
static void mask_path(const char *p) {
  struct stat st;
  if (stat(p, &st) < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return;
    fail_errno(EXIT_HELPER, "mask %s: stat", p);
  }
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0") < 0) fail_errno(EXIT_HELPER, "mask %s (tmpfs)", p);
  } else if (mount("/dev/null", p, NULL, MS_BIND, NULL) < 0) {
    fail_errno(EXIT_HELPER, "mask %s (bind /dev/null)", p);
  }
}

static void readonly_path(const char *p) {
  if (access(p, F_OK) < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return;
    fail_errno(EXIT_HELPER, "read-only %s: access", p);
  }
  do_mount(p, p, NULL, MS_BIND | MS_REC, NULL);
  remount_ro(p);
}

static void apply_masks(const struct spec *s) {
  for (size_t i = 0; i < s->masked.n; i++) mask_path(s->masked.v[i]);
  for (size_t i = 0; i < s->ro_paths.n; i++) readonly_path(s->ro_paths.v[i]);
}

/* Replace a host pseudo-filesystem: detach the host's tree (so it leaves
 * the mount table) when allowed, then mount ours. In a user namespace the
 * inherited mounts are locked and cannot be detached; mounting on top is
 * then the only option, and still hides them. */
static void replace_mount(const char *target, void (*mount_fn)(const char *)) {
  if (umount2(target, MNT_DETACH) < 0 && errno != EINVAL && errno != EPERM)
    fail_errno(EXIT_HELPER, "detach host %s", target);
  mount_fn(target);
}

static void setup_host_root(const struct spec *s) {
  if (s->ns_flags & CLONE_NEWPID) replace_mount("/proc", mount_proc);
  trace("proc-mounted");
  if (s->ns_flags & CLONE_NEWNET) replace_mount("/sys", mount_sysfs);
  trace("sys-mounted");
  /* A new IPC ns deserves its own POSIX shm and mqueue views too. */
  if (s->ns_flags & CLONE_NEWIPC) {
    if (access("/dev/shm", F_OK) == 0) do_mount("shm", "/dev/shm", "tmpfs", MS_SAFE, "mode=1777,size=65536k");
    if (access("/dev/mqueue", F_OK) == 0 && mount("mqueue", "/dev/mqueue", "mqueue", MS_SAFE, NULL) < 0 &&
        errno != EPERM)
      fail_errno(EXIT_HELPER, "mount mqueue on /dev/mqueue");
  }
  trace("ipc-mounts-done");
  apply_masks(s);
}

static void setup_rootfs(const struct spec *s) {
  const char *root = s->rootfs;
  char p[PATH_MAX], dev[PATH_MAX];
  struct stat st;
  if (stat(root, &st) < 0) fail_errno(EXIT_HELPER, "rootfs %s", root);
  if (!S_ISDIR(st.st_mode)) fail(EXIT_HELPER, "rootfs %s: not a directory", root);
  /* pivot_root needs the new root to be a mount point: the image's overlay
   * (in this private namespace only: it goes when the container does), or
   * the rootfs bound onto itself. */
  if (s->rootfs_overlay) {
    if (mount("overlay", root, "overlay", 0, s->rootfs_overlay) < 0)
      fail_errno(EXIT_HELPER, "mount the image's overlay on %s", root);
  } else {
    do_mount(root, root, NULL, MS_BIND | MS_REC, NULL);
  }
  g_root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (g_root_fd < 0) fail_errno(EXIT_HELPER, "open rootfs %s", root);
  for (size_t i = 0; i < s->nvolumes; i++) mount_volume(&s->volumes[i]);
  do_mount("proc", in_root("/proc", 'd', p), "proc", MS_SAFE, NULL);
  do_mount("tmpfs", in_root("/dev", 'd', p), "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
  populate_dev(in_root("/dev", 0, dev), &s->device_nodes); /* the fresh tmpfs: nothing of the image's */
  /* sysfs, or (in a user ns that does not own the net ns) a read-only bind of the host's, as mount_sysfs */
  if (mount("sysfs", in_root("/sys", 'd', p), "sysfs", MS_SAFE | MS_RDONLY, NULL) < 0) {
    if (errno != EPERM) fail_errno(EXIT_HELPER, "mount sysfs on %s/sys", root);
    do_mount("/sys", p, NULL, MS_BIND | MS_REC, NULL);
    remount_ro(in_root("/sys", 0, p));
  }
  close_targets();
  trace("rootfs-mounted");
  pivot_into(root);
  trace("pivoted");
  apply_masks(s);
  if (s->readonly_rootfs) remount_ro("/");
}

void setup_mounts(const struct spec *s) {
  if (!(s->ns_flags & CLONE_NEWNS)) return;
  make_private();
  trace("mounts-private");
  if (s->rootfs) setup_rootfs(s);
  else setup_host_root(s);
  trace("mounts-done");
}
