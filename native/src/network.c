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
 *                  the launch; the child dies with its lifeline. */
#include "helper.h"

#include <errno.h>
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
