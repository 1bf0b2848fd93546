/* Test tool (not a probe: it runs on the host, on a file in the test's own
 * temp dir): give FILE file capabilities with every capability inheritable
 * and the effective bit, none permitted; as `setcap all+ie FILE` would. A
 * process gains them only through its own inheritable set. */
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <linux/capability.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: set-file-caps FILE\n");
    return 2;
  }
  struct vfs_cap_data d;
  memset(&d, 0, sizeof d);
  d.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
  d.data[0].inheritable = 0xffffffffu;
  d.data[1].inheritable = 0x1ffu;
  if (setxattr(argv[1], "security.capability", &d, XATTR_CAPS_SZ_2, 0) < 0) {
    perror("setxattr security.capability");
    return 1;
  }
  return 0;
}
