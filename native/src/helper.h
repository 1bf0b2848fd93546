/* tstop-helper: shared declarations.
 *
 * The helper is a small fork/exec front end for `tstop run` and `tstop exec`:
 * Node cannot run code between fork and exec, so every namespace, mount and
 * credential syscall lives here. See native/README.md for the spec format. */
#ifndef TSTOP_HELPER_H
#define TSTOP_HELPER_H

#define _GNU_SOURCE
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Exit codes that tell tstop "the helper failed" apart from workload codes
 * (same convention as docker run / chroot / env). */
#define EXIT_HELPER 125  /* a setup step failed before exec */
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

/* Namespace flags; defined here so old libc headers still build. */
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

struct strlist {
  char **v;
  size_t n;
};

struct volume {
  char *src;
  char *dst;
  int ro;
};

enum mode { MODE_NONE, MODE_RUN, MODE_EXEC };

enum restart_policy { RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS, RESTART_UNLESS_STOPPED };

struct spec {
  enum mode mode;
  struct strlist argv;
  struct strlist env;
  char *cwd;
  int has_user;
  uid_t uid;
  gid_t gid;
  gid_t *groups;
  size_t ngroups;
  char *hostname;
  unsigned long ns_flags;  /* CLONE_NEW* for run mode */
  struct strlist uid_map;  /* "inside outside count" lines */
  struct strlist gid_map;
  int setgroups_deny;
  struct strlist cgroup_procs; /* cgroup.procs files to join */
  int cgroup_clone;        /* use clone3(CLONE_INTO_CGROUP) when possible */
  char *rootfs;
  char *rootfs_overlay; /* overlayfs options: mounted on rootfs instead of binding it */
  int readonly_rootfs;
  struct volume *volumes;
  size_t nvolumes;
  struct strlist masked;   /* paths hidden with /dev/null or an ro tmpfs */
  struct strlist ro_paths; /* paths remounted read-only */
  char *device_cgroup;     /* cgroup2 dir for the device filter (devices.c) */
  struct strlist device_allow; /* "c 1:3 rwm" rules of that filter */
  struct strlist device_nodes; /* "TYPE:MAJ:MIN:MODE:PATH:HOSTPATH" nodes made in /dev */
  char *log_path;          /* detached: stdout+stderr through a capped, rotated log (logger.c) */
  long long log_max_bytes;
  long log_max_files;
  int restart;             /* RESTART_*: the supervisor's policy (supervisor.c) */
  long restart_max;        /* on-failure:N; 0 = no limit */
  char *stop_flag;         /* created by tstop stop: no more restarts */
  uint64_t caps;           /* final capability set, bit n = cap n */
  int no_new_privs;
  int init;
  int tty;
  int report_fd;
  pid_t target_pid;        /* exec mode */
  char *seccomp_default;   /* NULL: no filter */
  struct strlist seccomp_arches;
  struct strlist seccomp_rules;
  char *seccomp_cache;     /* dir of generated BPF programs keyed on the records (seccomp-cache.c); NULL: none */
  int has_oom_score_adj;
  int oom_score_adj;
  struct strlist rlimits;  /* "name soft hard" */
  int netns_fd;            /* run: join this network namespace (--network container:NAME); -1 = none */
  int net_wait_fd;         /* run: report netns=PID, then wait for '1' here before the workload starts */
  char *net_addr;          /* run: "A.B.C.D/N" for eth0 (tstop moved it in while the child waited) */
  char *net_gateway;       /* run: the default route's gateway */
  /* run: the helper owns a foreground container, in tstop's place (owner.c) */
  char *owner_state_file;  /* the state file it keeps */
  char *owner_state_json;  /* that state as JSON up to the fields only the helper knows, without the closing brace */
  char *owner_oom_file;    /* memory.oom_control / memory.events: OOM kills at the end */
  struct strlist owner_remove; /* other files of the container removed with the state (--rm, a failed launch) */
  int owner_auto_remove;   /* --rm */
  int owner_stdin_null;    /* stdin from /dev/null (no -i/-t) */
};

/* main.c: errors, tracing and small I/O helpers. */
extern int g_err_fd;    /* child side of the error pipe, -1 in the parent */
extern int g_report_fd; /* fd tstop reads "pid=" / "exit=" lines from */
void fail(int code, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
void fail_errno(int code, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void trace(const char *event);
void trace_init(void);
void set_role(const char *role);
void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int write_file(const char *path, const char *data);
void *xcalloc(size_t n, size_t size);
void strlist_push(struct strlist *l, char *s);
void block_signals(void);
void reset_signals(void);
int exit_code_of(int status);

/* sealed.c: run from a sealed memfd copy, non-dumpable (CVE-2019-5736). */
void reexec_sealed(char **argv);

/* seccomp.c: the filter is built (and checked) by the parent before any
 * container exists, loaded by the workload's process just before exec. */
void seccomp_prepare(const struct spec *s);
void seccomp_install(void);
int seccomp_pending(void);

/* seccomp-cache.c: the BPF program libseccomp generated for the same
 * records, kept in spec seccomp_cache=DIR. */
struct bpf_program_buf {
  void *insns; /* struct sock_filter[] */
  size_t len;  /* instructions */
};
int seccomp_cache_load(const struct spec *s, struct bpf_program_buf *out);
void seccomp_cache_store(const struct spec *s, const struct bpf_program_buf *prog);

/* limits.c: rlimits and oom_score_adj of the workload. */
void limits_check(const struct spec *s);
void limits_apply(const struct spec *s);
void oom_score_apply(const struct spec *s);

/* spec.c */
void spec_read(int fd, struct spec *s);

/* cgroup.c */
int cgroup_clone_dir(const struct spec *s, size_t *index);
void cgroup_join_self(const struct spec *s, size_t skip);
int cgroup_needs_join(const struct spec *s, size_t skip);
pid_t clone_child(unsigned long flags, int cgroup_fd);
pid_t spawn_placed(const struct spec *s, size_t skip, int cgroup_fd, unsigned long flags, void (*before)(void *),
                   void *arg);

/* mounts.c */
void setup_mounts(const struct spec *s);

/* logger.c */
void start_logger(const struct spec *s);

/* supervisor.c: --restart around run.c's one start of the workload. */
int supervise(const struct spec *s, int (*run_once)(const struct spec *, int *started));

/* devices.c */
void check_device_rules(const struct spec *s);
void attach_device_filter(const struct spec *s);

/* process.c: hostname, network, credentials, exec, init. */
void set_hostname(const struct spec *s);
void bring_up_loopback(void);
extern int g_lifeline_fd; /* read end; EOF means the helper parent died */
void become_userns_root(void);
void enter_workdir(const struct spec *s);
void drop_privileges(const struct spec *s);
void exec_workload(const struct spec *s) __attribute__((noreturn));
void run_init(const struct spec *s) __attribute__((noreturn));
void become_tty_child(int slave_fd);

/* A child's failure message for the parent (see main.c). */
struct errmsg {
  int32_t code;
  char text[1020];
};

/* relay.c: the parent's loop (exit status, signals, pty). */
struct relay {
  pid_t child;
  int err_rd;  /* read end of the error pipe; EOF means exec succeeded */
  int master;  /* pty master, -1 without tty */
  int started; /* set once exec succeeded */
};
void tty_setup_child(int sock);
int tty_receive_master(int sock);
int relay_until_exit(struct relay *r) __attribute__((warn_unused_result));

/* network.c: joining another container's netns, waiting for tstop's veth set-up. */
void join_netns(const struct spec *s);
void wait_for_network(const struct spec *s, pid_t child);
int network_kept(void);
unsigned long network_restart_flags(unsigned long flags);
void configure_eth0(const struct spec *s);

/* owner.c: a foreground container's state and cgroup, when tstop exec'd the helper. */
void owner_init(const struct spec *s);
void owner_started(pid_t pid);
int owner_finish(int code);

/* run.c / exec.c */
int run_mode(const struct spec *s);
int exec_mode(const struct spec *s);

#endif
