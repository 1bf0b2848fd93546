/* The helper's part of tstop's networks; the veth pair, addresses and nft
 * rules are tstop's (src/launcher/network/), done with ip and nft from the
 * host side while the child waits on the sync pipe.
 *
 *   netns_fd=N     --network container:NAME: tstop opened the other
 *                  container's /proc/PID/ns/net and checked that PID is
 *                  still that container's; the helper joins it before
 *                  clone, so the child is in it from its first instruction.
 *   net_wait_fd=N  --network bridge: after clone, report netns=PID and wait
 *                  for tstop's '1' (eth0 configured) before releasing the
 *                  child. Anything else (tstop failed, or died: EOF) ends
 *                  the launch; the child dies with its lifeline.
 *   net_addr=, net_gateway=  the child addresses that eth0 itself and adds
 *                  the default route (configure_eth0), saving tstop an
 *                  nsenter + ip spawn per launch. */
#include "helper.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

void join_netns(const struct spec *s) {
  if (s->netns_fd < 0) return;
  if (setns(s->netns_fd, CLONE_NEWNET) < 0) fail_errno(EXIT_HELPER, "setns(netns_fd=%d, CLONE_NEWNET)", s->netns_fd);
  close(s->netns_fd);
  trace("netns-joined");
}

void wait_for_network(const struct spec *s, pid_t child) {
  if (s->net_wait_fd < 0) return;
  report("netns=%d", (int)child);
  char ok = 0;
  ssize_t n;
  do n = read(s->net_wait_fd, &ok, 1);
  while (n < 0 && errno == EINTR);
  close(s->net_wait_fd);
  if (n != 1 || ok != '1') fail(EXIT_HELPER, "the container's network was not set up (tstop says why)");
  trace("network-ready");
}

static in_addr_t parse_ipv4(const char *key, const char *text) {
  struct in_addr a;
  if (inet_pton(AF_INET, text, &a) != 1) fail(EXIT_HELPER, "spec: %s=%s: not an IPv4 address", key, text);
  return a.s_addr;
}

static void set_sockaddr(struct sockaddr *sa, in_addr_t addr) {
  struct sockaddr_in *in = (struct sockaddr_in *)sa;
  memset(in, 0, sizeof *in);
  in->sin_family = AF_INET;
  in->sin_addr.s_addr = addr;
}

/* In the child, in its own netns (CAP_NET_ADMIN there even under a user
 * namespace): eth0's address and netmask, up, and the default route. The
 * same ioctls as bring_up_loopback: no netlink client needed for this. */
void configure_eth0(const struct spec *s) {
  if (!s->net_addr) return;
  char addr[32];
  snprintf(addr, sizeof addr, "%s", s->net_addr);
  char *slash = strchr(addr, '/');
  if (!slash) fail(EXIT_HELPER, "spec: net_addr=%s: expected A.B.C.D/N", s->net_addr);
  *slash = '\0';
  long prefix = strtol(slash + 1, NULL, 10);
  if (prefix < 1 || prefix > 31) fail(EXIT_HELPER, "spec: net_addr=%s: prefix 1 to 31", s->net_addr);
  in_addr_t ip = parse_ipv4("net_addr", addr);
  in_addr_t mask = htonl(0xffffffffu << (32 - prefix));

  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail_errno(EXIT_HELPER, "socket(AF_INET) for eth0");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "eth0");
  set_sockaddr(&ifr.ifr_addr, ip);
  if (ioctl(fd, SIOCSIFADDR, &ifr) < 0) fail_errno(EXIT_HELPER, "ioctl(eth0, SIOCSIFADDR %s)", addr);
  set_sockaddr(&ifr.ifr_netmask, mask);
  if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0) fail_errno(EXIT_HELPER, "ioctl(eth0, SIOCSIFNETMASK /%ld)", prefix);
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) fail_errno(EXIT_HELPER, "ioctl(eth0, SIOCGIFFLAGS)");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) fail_errno(EXIT_HELPER, "ioctl(eth0, SIOCSIFFLAGS IFF_UP)");
  if (s->net_gateway) {
    struct rtentry rt;
    memset(&rt, 0, sizeof rt);
    set_sockaddr(&rt.rt_dst, INADDR_ANY);
    set_sockaddr(&rt.rt_genmask, INADDR_ANY);
    set_sockaddr(&rt.rt_gateway, parse_ipv4("net_gateway", s->net_gateway));
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    rt.rt_dev = "eth0";
    if (ioctl(fd, SIOCADDRT, &rt) < 0) fail_errno(EXIT_HELPER, "ioctl(SIOCADDRT default via %s)", s->net_gateway);
  }
  close(fd);
  trace("eth0-configured");
}
