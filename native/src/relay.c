/* The helper process tstop spawned stays the parent of the container and
 * relays: the "started" moment (error pipe closed by exec), the workload's
 * host pid, forwarded signals, pty traffic, and finally the exit status. */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static struct termios g_saved_termios;
static int g_raw = 0;

static void restore_terminal(void) {
  if (g_raw) tcsetattr(STDIN_FILENO, TCSADRAIN, &g_saved_termios);
  g_raw = 0;
}

/* Raw mode on the outer terminal: every key (^C included) goes to the
 * workload's pty, whose own line discipline interprets it. */
static void make_terminal_raw(void) {
  if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &g_saved_termios) < 0) return;
  struct termios raw = g_saved_termios;
  cfmakeraw(&raw);
  if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0) {
    g_raw = 1;
    atexit(restore_terminal);
  }
}

static void copy_window_size(int master) {
  struct winsize ws;
  if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
}

/* The pty is allocated by the child, after its mounts, from the
 * container's own /dev/ptmx (devpts newinstance), so `tty` inside names a
 * device that exists there. The master travels back over a unix socket
 * (SCM_RIGHTS), like runc's console socket. */
void tty_setup_child(int sock) {
  int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0) fail_errno(EXIT_HELPER, "posix_openpt(/dev/ptmx)");
  if (grantpt(m) < 0 || unlockpt(m) < 0) fail_errno(EXIT_HELPER, "grantpt/unlockpt");
  char *name = ptsname(m);
  if (!name) fail_errno(EXIT_HELPER, "ptsname");
  int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) fail_errno(EXIT_HELPER, "open(%s)", name);

  char byte = 'm';
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof u);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &m, sizeof m);
  if (sendmsg(sock, &msg, 0) != 1) fail_errno(EXIT_HELPER, "send pty master to the helper");
  close(m);
  close(sock);
  become_tty_child(slave);
}

/* Returns the master, or -1 if the child failed before sending it (its
 * error then arrives on the error pipe). */
int tty_receive_master(int sock) {
  char byte;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  close(sock);
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (n != 1 || !c || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

static int write_all(int fd, const char *buf, size_t n) {
  while (n) {
    ssize_t w = write(fd, buf, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    buf += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Copy one chunk; returns 0 on EOF or error (EIO on a master means every
 * slave fd is closed). */
static int pump(int from, int to) {
  char buf[16384];
  ssize_t n = read(from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
  if (n <= 0) return 0;
  return write_all(to, buf, (size_t)n) == 0;
}

/* The exec step's outcome: EOF means exec succeeded, a record means a step
 * failed; print it as ours (one place, whatever the child's stderr is). */
static int read_outcome(struct relay *r, int *err_code) {
  struct errmsg m;
  ssize_t n;
  do n = read(r->err_rd, &m, sizeof m);
  while (n < 0 && errno == EINTR);
  close(r->err_rd);
  r->err_rd = -1;
  if (n > 0 && n != (ssize_t)sizeof m) {
    m.code = EXIT_HELPER;
    snprintf(m.text, sizeof m.text, "setup failed (short error record)");
    n = sizeof m;
  }
  if (n == (ssize_t)sizeof m) {
    m.text[sizeof m.text - 1] = '\0';
    restore_terminal();
    dprintf(STDERR_FILENO, "tstop-helper: %s\n", m.text);
    report("error=%s", m.text);
    *err_code = m.code;
  } else {
    trace("exec-ok");
    r->started = 1;
    report("pid=%d", (int)r->child);
    owner_started(r->child);
  }
  return 0;
}

/* Reaps the workload (its status) and any other child: the holder of Node's
 * memory that a `tstop run` which became this helper left (native/exec/exec.c). */
static void reap(struct relay *r, int *status, int *exited) {
  int st;
  pid_t p;
  while ((p = waitpid(-1, &st, WNOHANG)) > 0)
    if (p == r->child) {
      *status = st;
      *exited = 1;
    }
}

static void on_signal(struct relay *r, const struct signalfd_siginfo *si, int *status, int *exited) {
  int sig = (int)si->ssi_signo;
  if (sig == SIGCHLD) {
    reap(r, status, exited);
  } else if (sig == SIGWINCH) {
    if (r->master >= 0) copy_window_size(r->master);
  } else if (r->master >= 0 || si->ssi_code != SI_KERNEL) {
    /* Without a pty the workload shares our terminal's process group, so a
     * terminal-generated signal (SI_KERNEL) already reached it: forwarding
     * it again would deliver it twice. */
    kill(r->child, sig);
  }
}

int relay_until_exit(struct relay *r) {
  sigset_t set;
  sigemptyset(&set);
  int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&set, sigs[i]);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  if (sfd < 0) fail_errno(EXIT_HELPER, "signalfd");
  signal(SIGPIPE, SIG_IGN);

  int in_open = 0;
  if (r->master >= 0) {
    make_terminal_raw();
    copy_window_size(r->master);
    in_open = 1;
  }
  int status = 0, exited = 0, err_code = 0;
  /* A SIGCHLD may have arrived before the signalfd existed; it is still
   * pending, so the signalfd reports it. One that came before the helper
   * blocked SIGCHLD (the holder's, early) was discarded: reap now. */
  reap(r, &status, &exited);
  while (!exited || r->err_rd >= 0) {
    struct pollfd p[4];
    int n = 0, i_sig = n++, i_err = -1, i_master = -1, i_in = -1;
    p[i_sig] = (struct pollfd){.fd = sfd, .events = POLLIN};
    if (r->err_rd >= 0) p[i_err = n++] = (struct pollfd){.fd = r->err_rd, .events = POLLIN};
    if (r->master >= 0) p[i_master = n++] = (struct pollfd){.fd = r->master, .events = POLLIN};
    if (in_open) p[i_in = n++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
    if (poll(p, (nfds_t)n, -1) < 0) {
      if (errno == EINTR) continue;
      fail_errno(EXIT_HELPER, "poll");
    }
    if (i_err >= 0 && p[i_err].revents) read_outcome(r, &err_code);
    if (i_master >= 0 && p[i_master].revents && !pump(r->master, STDOUT_FILENO)) {
      close(r->master);
      r->master = -1;
      in_open = 0;
    }
    if (i_in >= 0 && in_open && p[i_in].revents && !pump(STDIN_FILENO, r->master)) {
      /* Our stdin ended: send the pty's EOF character so a reading
       * workload sees end of input too. */
      char eof = 4;
      write_all(r->master, &eof, 1);
      in_open = 0;
    }
    if (p[i_sig].revents) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) on_signal(r, &si, &status, &exited);
    }
  }
  /* Output the workload wrote just before exiting is still in the pty. */
  if (r->master >= 0) {
    fcntl(r->master, F_SETFL, O_NONBLOCK);
    while (pump(r->master, STDOUT_FILENO) == 1) {
      struct pollfd p = {.fd = r->master, .events = POLLIN};
      if (poll(&p, 1, 0) <= 0) break;
    }
  }
  restore_terminal();
  close(sfd); /* the supervisor relays again after a restart */
  trace("exit");
  int code = err_code ? err_code : exit_code_of(status);
  report("exit=%d", code);
  return code;
}
