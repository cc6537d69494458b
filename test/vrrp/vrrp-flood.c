/*
 * A flood of forged VRRP packets for the flood test (test/vrrp/flood.test.ts) and bench
 * (bench/vrrp-flood.mjs). It is C because the test needs 50,000+ packets a second from one
 * process on a shared 2-core host: Node through raw-socket sends one packet per sendto()
 * and JS call and stayed far below that, while this sends prebuilt Ethernet frames through
 * an AF_PACKET socket, 64 per sendmmsg(), bypassing the IP stack and the qdisc.
 *
 *   cc -O2 -o vrrp-flood vrrp-flood.c
 *   vrrp-flood IFNAME SECONDS RATE AVOID_NET TEMPLATE...
 *
 *   RATE       packets a second, 0 for as fast as the machine goes (in batches of 64; a rate
 *              under 6,400 a second in smaller ones, down to single packets)
 *   AVOID_NET  a.b.c.0: no forged source falls in this /24 (the routers' own subnet)
 *   TEMPLATE   TTL:MODE:HEX  one datagram's fields: its TTL (hop limit), and the VRRP message
 *              (or AH + VRRP, see below) in hex. MODE is
 *                "keep"    IPv4, the checksum as given: a VRRPv2 checksum does not cover the
 *                          addresses, and a deliberately wrong one stays wrong
 *                "v3"      IPv4, the VRRPv3 checksum recomputed for each forged source
 *                "v6"      IPv6 to ff02::12, the VRRPv3 checksum recomputed for each source
 *                "v6bad"   IPv6, the VRRPv3 checksum computed for each source, then spoiled
 *                          (one left as given would match a random source now and then)
 *              An IPv4 HEX starting with "ah" is sent as IP protocol 51 (the rest is AH + VRRP).
 *
 * Templates are used in turn; every packet gets a new random source address (a
 * xorshift generator: IPv4 anywhere but AVOID_NET, IPv6 link-local) and IPv4 id. Everything
 * goes to 224.0.0.18 or ff02::12 from the interface's own MAC address. Prints one JSON line
 * at the end: {"sent":N,"seconds":S}.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_TEMPLATES 32
#define MAX_FRAME 1514

struct template {
  uint8_t ttl;
  int v3;
  int v6;
  int spoil;
  uint8_t proto;
  size_t len;
  uint8_t payload[MAX_FRAME];
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next_random(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng >> 16);
}

static uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static uint32_t add_bytes(uint32_t sum, const uint8_t *p, size_t n) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += (uint32_t)(p[n - 1] << 8);
  return sum;
}

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int parse_template(const char *arg, struct template *t) {
  unsigned ttl;
  char mode[8];
  int used = 0;
  if (sscanf(arg, "%u:%7[^:]:%n", &ttl, mode, &used) != 2 || used == 0) return -1;
  t->ttl = (uint8_t)ttl;
  t->v6 = strncmp(mode, "v6", 2) == 0;
  t->spoil = strcmp(mode, "v6bad") == 0;
  t->v3 = strcmp(mode, "v3") == 0 || t->v6;
  const char *hex = arg + used;
  t->proto = 112;
  if (strncmp(hex, "ah", 2) == 0) {
    t->proto = 51;
    hex += 2;
  }
  size_t n = strlen(hex) / 2;
  if (n == 0 || n > MAX_FRAME - 54) return -1;
  for (size_t i = 0; i < n; i++) {
    unsigned b;
    if (sscanf(hex + 2 * i, "%2x", &b) != 1) return -1;
    t->payload[i] = (uint8_t)b;
  }
  t->len = n;
  return 0;
}

/* The VRRPv3 checksum: over the pseudo-header (the packet's source and destination, `addrs`,
 * then the length and protocol 112) and the message; `spoil` makes it wrong for sure. */
static void set_v3_checksum(uint8_t *msg, size_t len, const uint8_t *addrs, size_t addrs_len, int spoil) {
  msg[6] = msg[7] = 0;
  uint32_t sum = add_bytes(0, addrs, addrs_len) + 112 + (uint32_t)len;
  uint16_t c = fold(add_bytes(sum, msg, len));
  if (spoil) c ^= 0x5a5a;
  msg[6] = (uint8_t)(c >> 8);
  msg[7] = (uint8_t)c;
}

/* An IPv6 frame to ff02::12 from a random link-local source. */
static size_t build6(uint8_t *f, const uint8_t *mac, const struct template *t) {
  static const uint8_t group_mac[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x12};
  memcpy(f, group_mac, 6);
  memcpy(f + 6, mac, 6);
  f[12] = 0x86;
  f[13] = 0xdd;
  uint8_t *ip = f + 14;
  memset(ip, 0, 40);
  ip[0] = 0x6c; /* version 6, traffic class 0xc0 */
  ip[4] = (uint8_t)(t->len >> 8);
  ip[5] = (uint8_t)t->len;
  ip[6] = 112;
  ip[7] = t->ttl;
  ip[8] = 0xfe;
  ip[9] = 0x80;
  for (int i = 16; i < 24; i += 4) {
    uint32_t r = next_random();
    memcpy(ip + i, &r, 4);
  }
  ip[24] = 0xff;
  ip[25] = 0x02;
  ip[39] = 0x12;
  uint8_t *msg = ip + 40;
  memcpy(msg, t->payload, t->len);
  if (t->v3) set_v3_checksum(msg, t->len, ip + 8, 32, t->spoil);
  return 14 + 40 + t->len;
}

/* One Ethernet frame: multicast MAC, IPv4 header, the template's message, a new source. */
static size_t build(uint8_t *f, const uint8_t *mac, const struct template *t, uint32_t avoid) {
  if (t->v6) return build6(f, mac, t);
  uint32_t src;
  do {
    src = next_random();
  } while ((src >> 24) == 0 || (src >> 24) == 127 || (src >> 24) >= 224 || (src & 0xffffff00u) == avoid);
  static const uint8_t group_mac[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x12};
  memcpy(f, group_mac, 6);
  memcpy(f + 6, mac, 6);
  f[12] = 0x08;
  f[13] = 0x00;
  uint8_t *ip = f + 14;
  size_t total = 20 + t->len;
  memset(ip, 0, 20);
  ip[0] = 0x45;
  ip[1] = 0xc0;
  ip[2] = (uint8_t)(total >> 8);
  ip[3] = (uint8_t)total;
  uint16_t id = (uint16_t)next_random();
  ip[4] = (uint8_t)(id >> 8);
  ip[5] = (uint8_t)id;
  ip[8] = t->ttl;
  ip[9] = t->proto;
  uint32_t s = htonl(src), d = htonl(0xe0000012u);
  memcpy(ip + 12, &s, 4);
  memcpy(ip + 16, &d, 4);
  uint16_t hc = fold(add_bytes(0, ip, 20));
  ip[10] = (uint8_t)(hc >> 8);
  ip[11] = (uint8_t)hc;
  uint8_t *msg = ip + 20;
  memcpy(msg, t->payload, t->len);
  if (t->v3) set_v3_checksum(msg, t->len, ip + 12, 8, 0);
  return 14 + total;
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: %s IFNAME SECONDS RATE AVOID_NET TEMPLATE...\n", argv[0]);
    return 2;
  }
  const char *ifname = argv[1];
  double seconds = atof(argv[2]);
  double rate = atof(argv[3]);
  struct in_addr avoid_addr;
  if (inet_pton(AF_INET, argv[4], &avoid_addr) != 1) {
    fprintf(stderr, "bad AVOID_NET %s\n", argv[4]);
    return 2;
  }
  uint32_t avoid = ntohl(avoid_addr.s_addr) & 0xffffff00u;
  static struct template templates[MAX_TEMPLATES];
  int count = 0;
  for (int i = 5; i < argc && count < MAX_TEMPLATES; i++) {
    if (parse_template(argv[i], &templates[count]) < 0) {
      fprintf(stderr, "bad template %s\n", argv[i]);
      return 2;
    }
    count++;
  }
  rng ^= (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);

  int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
  if (fd < 0) {
    perror("socket(AF_PACKET)");
    return 1;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
    perror("SIOCGIFINDEX");
    return 1;
  }
  int ifindex = ifr.ifr_ifindex;
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
    perror("SIOCGIFHWADDR");
    return 1;
  }
  uint8_t mac[6];
  memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
  int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);

  static uint8_t frames[BATCH][MAX_FRAME];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  struct sockaddr_ll to;
  memset(&to, 0, sizeof to);
  to.sll_family = AF_PACKET;
  to.sll_ifindex = ifindex;
  to.sll_halen = 6;
  memcpy(to.sll_addr, (uint8_t[]){0x01, 0x00, 0x5e, 0x00, 0x00, 0x12}, 6);

  /* a slow rate (a trickle of a few packets a second) goes out one by one, not in bursts */
  int batch = rate > 0 && rate < 100.0 * BATCH ? (int)(rate / 100) : BATCH;
  if (batch < 1) batch = 1;
  unsigned long long sent = 0;
  int next = 0;
  double start = now_seconds();
  for (;;) {
    double elapsed = now_seconds() - start;
    if (elapsed >= seconds) break;
    if (rate > 0 && sent >= rate * elapsed) {
      double wait = (double)sent / rate - elapsed; /* until the next packet is due */
      if (wait > 0.1) wait = 0.1;
      struct timespec pause = {0, (long)(wait * 1e9) + 1000};
      nanosleep(&pause, NULL);
      continue;
    }
    for (int i = 0; i < batch; i++) {
      iov[i].iov_base = frames[i];
      iov[i].iov_len = build(frames[i], mac, &templates[next], avoid);
      next = (next + 1) % count;
      memset(&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_name = &to;
      msgs[i].msg_hdr.msg_namelen = sizeof to;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = sendmmsg(fd, msgs, (unsigned)batch, 0);
    if (n > 0) sent += (unsigned long long)n;
  }
  printf("{\"sent\":%llu,\"seconds\":%.3f}\n", sent, now_seconds() - start);
  return 0;
}
