/*
 * keepalived-ts native helpers: the few system calls Node and the installed packages cannot make.
 *
 *   openPacketSocket()          an AF_PACKET/SOCK_RAW socket for sending only; returns the fd.
 *                               Kept open by the caller: closing a packet socket waits for an
 *                               RCU grace period (~10 ms), too slow to pay per frame.
 *   sendFrame(fd, ifindex, frame) send one complete Ethernet frame on an interface.
 *                               Gratuitous ARP needs it: ARP is not an IP protocol, so neither
 *                               dgram nor raw-socket can emit it.
 *   enterNetworkNamespace(path) move the calling (main) thread into the network namespace
 *                               behind `path` (/run/netns/NAME): sockets opened afterwards live
 *                               there. Used by tests and by keepalived's `net_namespace`.
 *
 * A raw IP receiver with ancillary data, because raw-socket reads with recvfrom() and so
 * loses the IPv6 hop limit (RFC 5798 requires 255) and the arrival interface:
 *   openRawSocket(family, protocol)         non-blocking raw socket asking for hop limit/TTL
 *                                           and packet info; returns the fd
 *   setSocketOption(fd, level, name, value) value: integer or Buffer
 *   receiveBatch(fd, slots, slotSize, meta, max)
 *                                           one recvmmsg() of up to `max` datagrams, the i-th
 *                                           into slots[i*slotSize...], its facts into a 48-byte
 *                                           record of `meta` (see BATCH_RECORD); returns how
 *                                           many (0: nothing queued). Under a flood a syscall
 *                                           per datagram would be most of the receiver's cost
 *                                           (more in a VM, where each syscall traps), and so
 *                                           would a result object and strings per datagram: a
 *                                           batch costs one syscall and no allocation.
 *   attachFilter(fd, program)               SO_ATTACH_FILTER of a classic BPF program (a Buffer
 *                                           of struct sock_filter, built in TypeScript): which
 *                                           datagrams the socket queues at all
 *   watchReadable(fd, callback)             uv_poll on the fd; returns a handle for
 *   stopWatching(handle)                    ...which stops and frees it
 *   closeSocket(fd)
 *
 * A device whose life is a process's (bgp_announce routes go through it, so the kernel drops
 * them the moment their process dies, kill -9 included):
 *   openTunDevice(name)                     a tun device NAME, not persistent, attached to the
 *                                           returned fd (close-on-exec, so no script child
 *                                           keeps it); it goes away when the fd closes
 *
 * keepalived's real-time signals (Node's process.on knows no SIGRTMIN+n, and an uncaught
 * real-time signal terminates the process):
 *   catchSignal(signum)                     installs a handler (sigaction) that writes the
 *                                           signal's number, one byte, to a pipe; returns the
 *                                           pipe's non-blocking read end (the same for every
 *                                           signal caught), which the caller reads.
 *                                           Blocking the signals and reading a signalfd would
 *                                           need them blocked in every thread, and V8's and
 *                                           libuv's threads exist before any addon loads.
 *
 * And two libc calls:
 *   keepLargeBlocksApart()                  mallopt(M_MMAP_THRESHOLD, 128 KiB): every block
 *                                           of 128 KiB or more gets a mapping of its own,
 *                                           unmapped when freed. glibc otherwise raises that
 *                                           threshold to the size of each large block freed
 *                                           (a config load frees many), and later large
 *                                           blocks (typed columns sized for 10,000 real
 *                                           servers) then land in the heap among small live
 *                                           ones, where their pages stay resident after
 *                                           they are freed; measured ~0.13 KB per real
 *                                           server in the checker. Call before the load.
 *   releaseFreedMemory()                    malloc_trim(0): returns to the kernel what
 *                                           malloc holds free. A burst (loading a large
 *                                           config: V8's parser and compiler zones, file
 *                                           buffers) leaves freed chunks below live ones,
 *                                           which glibc keeps resident; measured ~0.45 KB
 *                                           per real server after loading 10,000.
 *
 * Frames are built in TypeScript (src/netlink/frames.ts); this file only moves bytes.
 * Errors are thrown as Error objects with `code` (errno name) and `errno` (number).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <stdlib.h>
#include <node_api.h>
#include <uv.h>
#include "js_callback.h"

#define ETH_HEADER_LEN 14

/* Throw Error(`${what}: ${strerror}`) carrying code and errno, like Node's own system errors. */
static napi_value throw_errno(napi_env env, const char *what, int err) {
  char message[256];
  const char *name = strerrorname_np(err);
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_value msg, code, error, errno_value;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, msg, &error);
  napi_create_int32(env, err, &errno_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_set_named_property(env, error, "syscall", msg);
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static napi_value open_packet_socket(napi_env env, napi_callback_info info) {
  (void)info;
  /* Protocol 0: this socket receives nothing, so no receive queue fills up behind it. */
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket(AF_PACKET)", errno);
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

static napi_value send_frame(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3)
    return throw_type(env, "sendFrame(fd, ifindex, frame) needs three arguments");

  int32_t fd, ifindex;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0)
    return throw_type(env, "fd must be a socket from openPacketSocket()");
  if (napi_get_value_int32(env, argv[1], &ifindex) != napi_ok || ifindex <= 0)
    return throw_type(env, "ifindex must be a positive integer");

  bool is_buffer = false;
  void *data = NULL;
  size_t length = 0;
  napi_is_buffer(env, argv[2], &is_buffer);
  if (!is_buffer || napi_get_buffer_info(env, argv[2], &data, &length) != napi_ok)
    return throw_type(env, "frame must be a Buffer");
  if (length < ETH_HEADER_LEN)
    return throw_type(env, "frame is shorter than an Ethernet header");

  const unsigned char *bytes = data;
  struct sockaddr_ll to;
  memset(&to, 0, sizeof to);
  to.sll_family = AF_PACKET;
  to.sll_ifindex = ifindex;
  memcpy(&to.sll_protocol, bytes + 12, 2); /* EtherType, already in network order */
  to.sll_halen = 6;
  memcpy(to.sll_addr, bytes, 6); /* destination MAC */

  ssize_t sent;
  do sent = sendto(fd, data, length, 0, (struct sockaddr *)&to, sizeof to); while (sent < 0 && errno == EINTR);
  if (sent < 0) return throw_errno(env, "sendto(AF_PACKET)", errno);

  napi_value result;
  napi_create_int64(env, (int64_t)sent, &result);
  return result;
}

static napi_value enter_network_namespace(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char path[4096];
  size_t path_len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_string_utf8(env, argv[0], path, sizeof path, &path_len) != napi_ok)
    return throw_type(env, "enterNetworkNamespace(path) needs a path string");

  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, "open(netns)", errno);
  int rc = setns(fd, CLONE_NEWNET);
  int err = errno;
  close(fd);
  if (rc < 0) return throw_errno(env, "setns(CLONE_NEWNET)", err);

  napi_value undefined;
  napi_get_undefined(env, &undefined);
  return undefined;
}

/* ---- raw IP receiver with ancillary data --------------------------------------------- */

static int get_int_arg(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok;
}

static napi_value open_raw_socket(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t family, protocol;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      !get_int_arg(env, argv[0], &family) || !get_int_arg(env, argv[1], &protocol) ||
      (family != 4 && family != 6))
    return throw_type(env, "openRawSocket(family 4|6, protocol) needs two integers");

  int domain = family == 4 ? AF_INET : AF_INET6;
  int fd = socket(domain, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return throw_errno(env, "socket(SOCK_RAW)", errno);
  int on = 1;
  int rc = family == 6
    ? (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on) ||
       setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on))
    : (setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof on) ||
       setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on));
  if (rc) {
    int err = errno;
    close(fd);
    return throw_errno(env, "setsockopt(ancillary data)", err);
  }
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

static napi_value set_socket_option(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t fd, level, name;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
      !get_int_arg(env, argv[0], &fd) || !get_int_arg(env, argv[1], &level) || !get_int_arg(env, argv[2], &name))
    return throw_type(env, "setSocketOption(fd, level, name, value) needs integers and a value");
  bool is_buffer = false;
  napi_is_buffer(env, argv[3], &is_buffer);
  int rc;
  if (is_buffer) {
    void *data;
    size_t length;
    napi_get_buffer_info(env, argv[3], &data, &length);
    rc = setsockopt(fd, level, name, data, (socklen_t)length);
  } else {
    int32_t value;
    if (!get_int_arg(env, argv[3], &value)) return throw_type(env, "value must be an integer or a Buffer");
    rc = setsockopt(fd, level, name, &value, sizeof value);
  }
  if (rc) return throw_errno(env, "setsockopt", errno);
  return NULL;
}

/*
 * receiveBatch's record per datagram, in host byte order: int32 length, int32 flags
 * (1: truncated), int32 hop limit / TTL (-1: absent), int32 arrival ifindex (0: absent),
 * then the source and the destination address, 16 bytes each (IPv4 in the first 4).
 */
#define BATCH_RECORD 48
#define BATCH_MAX 64

static void copy_address(unsigned char *to, const struct sockaddr_storage *from) {
  if (from->ss_family == AF_INET6) memcpy(to, &((const struct sockaddr_in6 *)from)->sin6_addr, 16);
  else if (from->ss_family == AF_INET) memcpy(to, &((const struct sockaddr_in *)from)->sin_addr, 4);
}

static napi_value receive_batch(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  int32_t fd, slot_size, max;
  void *slots, *meta;
  size_t slots_len, meta_len;
  bool slots_buffer = false, meta_buffer = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5 || !get_int_arg(env, argv[0], &fd) ||
      !get_int_arg(env, argv[2], &slot_size) || !get_int_arg(env, argv[4], &max))
    return throw_type(env, "receiveBatch(fd, slots, slotSize, meta, max) needs an fd, two Buffers and sizes");
  napi_is_buffer(env, argv[1], &slots_buffer);
  napi_is_buffer(env, argv[3], &meta_buffer);
  if (!slots_buffer || !meta_buffer || napi_get_buffer_info(env, argv[1], &slots, &slots_len) != napi_ok ||
      napi_get_buffer_info(env, argv[3], &meta, &meta_len) != napi_ok)
    return throw_type(env, "slots and meta must be Buffers");
  if (slot_size <= 0 || max <= 0) return throw_type(env, "slotSize and max must be positive");
  size_t n_max = (size_t)max;
  if (n_max > BATCH_MAX) n_max = BATCH_MAX;
  if (n_max > slots_len / (size_t)slot_size) n_max = slots_len / (size_t)slot_size;
  if (n_max > meta_len / BATCH_RECORD) n_max = meta_len / BATCH_RECORD;
  if (n_max == 0) return throw_type(env, "slots or meta too small for one datagram");

  struct mmsghdr msgs[BATCH_MAX];
  struct iovec iovs[BATCH_MAX];
  struct sockaddr_storage from[BATCH_MAX];
  union {
    char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct in6_pktinfo)) + 64];
    struct cmsghdr align;
  } control[BATCH_MAX];
  memset(msgs, 0, n_max * sizeof msgs[0]);
  for (size_t i = 0; i < n_max; i++) {
    iovs[i].iov_base = (char *)slots + i * (size_t)slot_size;
    iovs[i].iov_len = (size_t)slot_size;
    msgs[i].msg_hdr.msg_name = &from[i];
    msgs[i].msg_hdr.msg_namelen = sizeof from[i];
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_control = control[i].buf;
    msgs[i].msg_hdr.msg_controllen = sizeof control[i].buf;
  }
  int n;
  do n = recvmmsg(fd, msgs, (unsigned)n_max, MSG_DONTWAIT, NULL); while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) return throw_errno(env, "recvmmsg", errno);
    n = 0;
  }

  for (int i = 0; i < n; i++) {
    unsigned char *rec = (unsigned char *)meta + (size_t)i * BATCH_RECORD;
    struct msghdr *m = &msgs[i].msg_hdr;
    int32_t fields[4] = {(int32_t)msgs[i].msg_len, (m->msg_flags & MSG_TRUNC) ? 1 : 0, -1, 0};
    memset(rec + 16, 0, 32);
    copy_address(rec + 16, &from[i]);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
      if ((c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) || (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL)) {
        memcpy(&fields[2], CMSG_DATA(c), sizeof fields[2]);
      } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        struct in6_pktinfo pi;
        memcpy(&pi, CMSG_DATA(c), sizeof pi);
        fields[3] = (int32_t)pi.ipi6_ifindex;
        memcpy(rec + 32, &pi.ipi6_addr, 16);
      } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        struct in_pktinfo pi;
        memcpy(&pi, CMSG_DATA(c), sizeof pi);
        fields[3] = pi.ipi_ifindex;
        memcpy(rec + 32, &pi.ipi_addr, 4);
      }
    }
    memcpy(rec, fields, sizeof fields);
  }
  napi_value result;
  napi_create_int32(env, n, &result);
  return result;
}

static napi_value attach_filter(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  void *code;
  size_t length;
  bool is_buffer = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || !get_int_arg(env, argv[0], &fd))
    return throw_type(env, "attachFilter(fd, program) needs an fd and a Buffer");
  napi_is_buffer(env, argv[1], &is_buffer);
  if (!is_buffer || napi_get_buffer_info(env, argv[1], &code, &length) != napi_ok || length == 0 ||
      length % sizeof(struct sock_filter) != 0 || length / sizeof(struct sock_filter) > BPF_MAXINSNS)
    return throw_type(env, "program must be a Buffer of whole sock_filter instructions");
  struct sock_fprog prog = {.len = (unsigned short)(length / sizeof(struct sock_filter)), .filter = code};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
    return throw_errno(env, "setsockopt(SO_ATTACH_FILTER)", errno);
  return NULL;
}

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  bool stopped;
} watcher_t;

static void on_readable(uv_poll_t *handle, int status, int events) {
  (void)events;
  watcher_t *w = handle->data;
  if (w->stopped) return;
  napi_handle_scope scope;
  napi_open_handle_scope(w->env, &scope);
  napi_value callback, resource, arg;
  napi_get_reference_value(w->env, w->callback, &callback);
  napi_create_object(w->env, &resource);
  napi_create_int32(w->env, status, &arg); /* 0, or a negative libuv error */
  call_js(w->env, w->context, resource, callback, 1, &arg);
  napi_close_handle_scope(w->env, scope);
}

static void on_closed(uv_handle_t *handle) {
  watcher_t *w = handle->data;
  napi_delete_reference(w->env, w->callback);
  napi_async_destroy(w->env, w->context);
  free(w);
}

static napi_value watch_readable(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  napi_valuetype type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || !get_int_arg(env, argv[0], &fd) ||
      napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function)
    return throw_type(env, "watchReadable(fd, callback) needs an fd and a function");
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  watcher_t *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, "watchReadable", ENOMEM);
  w->env = env;
  int rc = uv_poll_init(loop, &w->poll, fd);
  if (rc) {
    free(w);
    return throw_errno(env, "uv_poll_init", -rc);
  }
  w->poll.data = w;
  napi_value name;
  napi_create_string_utf8(env, "keepalived-ts:raw-receiver", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &w->context);
  napi_create_reference(env, argv[1], 1, &w->callback);
  uv_poll_start(&w->poll, UV_READABLE, on_readable);
  napi_value handle;
  napi_create_external(env, w, NULL, NULL, &handle);
  return handle;
}

static napi_value stop_watching(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *ptr = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_external(env, argv[0], &ptr) != napi_ok || !ptr)
    return throw_type(env, "stopWatching(handle) needs a handle from watchReadable");
  watcher_t *w = ptr;
  if (!w->stopped) {
    w->stopped = true;
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, on_closed);
  }
  return NULL;
}

static napi_value close_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || !get_int_arg(env, argv[0], &fd))
    return throw_type(env, "closeSocket(fd) needs an fd");
  if (close(fd) < 0) return throw_errno(env, "close", errno);
  return NULL;
}

static napi_value open_tun_device(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char name[64];
  size_t len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok || len == 0 || len >= IFNAMSIZ)
    return throw_type(env, "openTunDevice(name) needs an interface name of 1-15 bytes");
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, "open /dev/net/tun", errno);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, len);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "TUNSETIFF", err);
  }
  /* a persistent device of that name (left by hand) would outlive us: no longer */
  if (ioctl(fd, TUNSETPERSIST, 0) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "TUNSETPERSIST", err);
  }
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

static napi_value release_freed_memory(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value released;
  napi_get_boolean(env, malloc_trim(0) == 1, &released);
  return released;
}

static napi_value keep_large_blocks_apart(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value pinned;
  /* setting it also turns glibc's dynamic threshold off, which is the point */
  napi_get_boolean(env, mallopt(M_MMAP_THRESHOLD, 128 * 1024) == 1, &pinned);
  return pinned;
}

static void define_process_calls(napi_env env, napi_value exports);

static int signal_pipe[2] = {-1, -1};

static void on_caught_signal(int signum) {
  int saved = errno;
  unsigned char b = (unsigned char)signum;
  /* async-signal-safe; a full pipe drops the byte (the reader is far behind anyway) */
  ssize_t n = write(signal_pipe[1], &b, 1);
  (void)n;
  errno = saved;
}

static napi_value catch_signal(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t signum;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || !get_int_arg(env, argv[0], &signum) ||
      signum < 1 || signum > SIGRTMAX)
    return throw_type(env, "catchSignal(signum) needs a signal number");
  if (signal_pipe[0] < 0 && pipe2(signal_pipe, O_NONBLOCK | O_CLOEXEC) < 0) return throw_errno(env, "pipe2", errno);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_caught_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(signum, &sa, NULL) < 0) return throw_errno(env, "sigaction", errno);
  napi_value fd;
  napi_create_int32(env, signal_pipe[0], &fd);
  return fd;
}

static napi_value init(napi_env env, napi_value exports) {
  define_process_calls(env, exports);
  napi_property_descriptor props[] = {
    {"openPacketSocket", NULL, open_packet_socket, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sendFrame", NULL, send_frame, NULL, NULL, NULL, napi_enumerable, NULL},
    {"enterNetworkNamespace", NULL, enter_network_namespace, NULL, NULL, NULL, napi_enumerable, NULL},
    {"openRawSocket", NULL, open_raw_socket, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setSocketOption", NULL, set_socket_option, NULL, NULL, NULL, napi_enumerable, NULL},
    {"receiveBatch", NULL, receive_batch, NULL, NULL, NULL, napi_enumerable, NULL},
    {"attachFilter", NULL, attach_filter, NULL, NULL, NULL, napi_enumerable, NULL},
    {"watchReadable", NULL, watch_readable, NULL, NULL, NULL, napi_enumerable, NULL},
    {"stopWatching", NULL, stop_watching, NULL, NULL, NULL, napi_enumerable, NULL},
    {"closeSocket", NULL, close_socket, NULL, NULL, NULL, napi_enumerable, NULL},
    {"openTunDevice", NULL, open_tun_device, NULL, NULL, NULL, napi_enumerable, NULL},
    {"releaseFreedMemory", NULL, release_freed_memory, NULL, NULL, NULL, napi_enumerable, NULL},
    {"keepLargeBlocksApart", NULL, keep_large_blocks_apart, NULL, NULL, NULL, napi_enumerable, NULL},
    {"catchSignal", NULL, catch_signal, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)

/* ---- process-level settings (keepalived's vrrp_rt_priority, *_no_swap, *_cpu_affinity,
 * *_priority, *_rlimit_rttime, max_auto_priority) --------------------------------------
 *
 *   setRealtimePriority(tid, priority)  SCHED_RR at `priority` (SCHED_RESET_ON_FORK: scripts
 *                                       and threads started later get the normal scheduler);
 *                                       priority 0 = back to SCHED_OTHER. tid 0 = the caller.
 *   realtimePriorityRange()             [min, max] of SCHED_RR (1, 99 on Linux)
 *   setNiceness(tid, nice)              setpriority(PRIO_PROCESS, tid): Linux keeps a nice
 *   getNiceness(tid)                    value per thread
 *   lockMemoryRange(start, length)      mlock2(MLOCK_ONFAULT): pages are locked as they are
 *                                       touched (a library's untouched pages stay on disk)
 *   unlockMemory()                      munlockall()
 *   setCpuAffinity(tid, cpus)           sched_setaffinity; cpus: array of CPU numbers
 *   getCpuAffinity(tid)                 the CPUs as an array
 *   setRealtimeTimeLimit(soft, hard)    setrlimit(RLIMIT_RTTIME), microseconds; -1 = infinity
 *   getRealtimeTimeLimit()              [soft, hard], -1 = infinity
 */
#include <sys/mman.h>
#include <sys/resource.h>
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

static napi_value make_int_pair(napi_env env, int64_t a, int64_t b) {
  napi_value out, va, vb;
  napi_create_array_with_length(env, 2, &out);
  napi_create_int64(env, a, &va);
  napi_create_int64(env, b, &vb);
  napi_set_element(env, out, 0, va);
  napi_set_element(env, out, 1, vb);
  return out;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= want;
}

static napi_value set_realtime_priority(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t tid, priority;
  if (!get_args(env, info, 2, argv) || !get_int_arg(env, argv[0], &tid) || !get_int_arg(env, argv[1], &priority) || priority < 0)
    return throw_type(env, "setRealtimePriority(tid, priority) needs a thread id and a priority >= 0");
  struct sched_param sp = {.sched_priority = priority};
  int policy = priority > 0 ? SCHED_RR | SCHED_RESET_ON_FORK : SCHED_OTHER;
  if (sched_setscheduler(tid, policy, &sp) < 0) return throw_errno(env, "sched_setscheduler", errno);
  return NULL;
}

static napi_value realtime_priority_range(napi_env env, napi_callback_info info) {
  (void)info;
  return make_int_pair(env, sched_get_priority_min(SCHED_RR), sched_get_priority_max(SCHED_RR));
}

static napi_value set_niceness(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t tid, nice;
  if (!get_args(env, info, 2, argv) || !get_int_arg(env, argv[0], &tid) || !get_int_arg(env, argv[1], &nice))
    return throw_type(env, "setNiceness(tid, nice) needs a thread id and a nice value");
  if (setpriority(PRIO_PROCESS, (id_t)tid, nice) < 0) return throw_errno(env, "setpriority", errno);
  return NULL;
}

static napi_value get_niceness(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t tid;
  if (!get_args(env, info, 1, argv) || !get_int_arg(env, argv[0], &tid))
    return throw_type(env, "getNiceness(tid) needs a thread id");
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, (id_t)tid);
  if (nice == -1 && errno) return throw_errno(env, "getpriority", errno);
  napi_value out;
  napi_create_int32(env, nice, &out);
  return out;
}

static napi_value lock_memory_range(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int64_t start, length;
  if (!get_args(env, info, 2, argv) || napi_get_value_int64(env, argv[0], &start) != napi_ok ||
      napi_get_value_int64(env, argv[1], &length) != napi_ok || start < 0 || length <= 0)
    return throw_type(env, "lockMemoryRange(start, length) needs an address and a length");
  if (mlock2((void *)(uintptr_t)start, (size_t)length, MLOCK_ONFAULT) < 0) return throw_errno(env, "mlock2", errno);
  return NULL;
}

static napi_value unlock_memory(napi_env env, napi_callback_info info) {
  (void)info;
  if (munlockall() < 0) return throw_errno(env, "munlockall", errno);
  return NULL;
}

static napi_value set_cpu_affinity(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t tid;
  bool is_array = false;
  uint32_t n = 0;
  if (!get_args(env, info, 2, argv) || !get_int_arg(env, argv[0], &tid) ||
      napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[1], &n) != napi_ok || n == 0)
    return throw_type(env, "setCpuAffinity(tid, cpus) needs a thread id and a non-empty array of CPU numbers");
  cpu_set_t set;
  CPU_ZERO(&set);
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    int32_t cpu;
    if (napi_get_element(env, argv[1], i, &v) != napi_ok || !get_int_arg(env, v, &cpu) || cpu < 0 || cpu >= CPU_SETSIZE)
      return throw_type(env, "a CPU number is not an integer in [0, CPU_SETSIZE)");
    CPU_SET(cpu, &set);
  }
  if (sched_setaffinity(tid, sizeof set, &set) < 0) return throw_errno(env, "sched_setaffinity", errno);
  return NULL;
}

static napi_value get_cpu_affinity(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t tid;
  if (!get_args(env, info, 1, argv) || !get_int_arg(env, argv[0], &tid))
    return throw_type(env, "getCpuAffinity(tid) needs a thread id");
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(tid, sizeof set, &set) < 0) return throw_errno(env, "sched_getaffinity", errno);
  napi_value out;
  napi_create_array(env, &out);
  uint32_t k = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (!CPU_ISSET(cpu, &set)) continue;
    napi_value v;
    napi_create_int32(env, cpu, &v);
    napi_set_element(env, out, k++, v);
  }
  return out;
}

static rlim_t limit_arg(int64_t v) {
  return v < 0 ? RLIM_INFINITY : (rlim_t)v;
}

static napi_value set_realtime_time_limit(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int64_t soft, hard;
  if (!get_args(env, info, 2, argv) || napi_get_value_int64(env, argv[0], &soft) != napi_ok ||
      napi_get_value_int64(env, argv[1], &hard) != napi_ok)
    return throw_type(env, "setRealtimeTimeLimit(soft, hard) needs two numbers of microseconds (-1: no limit)");
  struct rlimit r = {.rlim_cur = limit_arg(soft), .rlim_max = limit_arg(hard)};
  if (setrlimit(RLIMIT_RTTIME, &r) < 0) return throw_errno(env, "setrlimit(RLIMIT_RTTIME)", errno);
  return NULL;
}

static napi_value get_realtime_time_limit(napi_env env, napi_callback_info info) {
  (void)info;
  struct rlimit r;
  if (getrlimit(RLIMIT_RTTIME, &r) < 0) return throw_errno(env, "getrlimit(RLIMIT_RTTIME)", errno);
  return make_int_pair(env, r.rlim_cur == RLIM_INFINITY ? -1 : (int64_t)r.rlim_cur, r.rlim_max == RLIM_INFINITY ? -1 : (int64_t)r.rlim_max);
}

static void define_process_calls(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"setRealtimePriority", NULL, set_realtime_priority, NULL, NULL, NULL, napi_enumerable, NULL},
    {"realtimePriorityRange", NULL, realtime_priority_range, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setNiceness", NULL, set_niceness, NULL, NULL, NULL, napi_enumerable, NULL},
    {"getNiceness", NULL, get_niceness, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lockMemoryRange", NULL, lock_memory_range, NULL, NULL, NULL, napi_enumerable, NULL},
    {"unlockMemory", NULL, unlock_memory, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setCpuAffinity", NULL, set_cpu_affinity, NULL, NULL, NULL, napi_enumerable, NULL},
    {"getCpuAffinity", NULL, get_cpu_affinity, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setRealtimeTimeLimit", NULL, set_realtime_time_limit, NULL, NULL, NULL, napi_enumerable, NULL},
    {"getRealtimeTimeLimit", NULL, get_realtime_time_limit, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
