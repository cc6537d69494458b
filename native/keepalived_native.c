/*
 * keepalived-ts native helpers: the few system calls Node and the installed packages cannot make.
 *
 *   sendFrame(ifindex, frame)   send one complete Ethernet frame on an interface (AF_PACKET).
 *                               Gratuitous ARP needs it: ARP is not an IP protocol, so neither
 *                               dgram nor raw-socket can emit it.
 *   enterNetworkNamespace(path) move the calling (main) thread into the network namespace
 *                               behind `path` (/run/netns/NAME): sockets opened afterwards live
 *                               there. Used by tests and by keepalived's `net_namespace`.
 *
 * Frames are built in TypeScript (src/netlink/frames.ts); this file only moves bytes.
 * Errors are thrown as Error objects with `code` (errno name) and `errno` (number).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <node_api.h>

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

static napi_value send_frame(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2)
    return throw_type(env, "sendFrame(ifindex, frame) needs two arguments");

  int32_t ifindex;
  if (napi_get_value_int32(env, argv[0], &ifindex) != napi_ok || ifindex <= 0)
    return throw_type(env, "ifindex must be a positive integer");

  bool is_buffer = false;
  void *data = NULL;
  size_t length = 0;
  napi_is_buffer(env, argv[1], &is_buffer);
  if (!is_buffer || napi_get_buffer_info(env, argv[1], &data, &length) != napi_ok)
    return throw_type(env, "frame must be a Buffer");
  if (length < ETH_HEADER_LEN)
    return throw_type(env, "frame is shorter than an Ethernet header");

  /* Protocol 0: this socket receives nothing, so no receive queue fills up behind it. */
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket(AF_PACKET)", errno);

  const unsigned char *bytes = data;
  struct sockaddr_ll to;
  memset(&to, 0, sizeof to);
  to.sll_family = AF_PACKET;
  to.sll_ifindex = ifindex;
  memcpy(&to.sll_protocol, bytes + 12, 2); /* EtherType, already in network order */
  to.sll_halen = 6;
  memcpy(to.sll_addr, bytes, 6); /* destination MAC */

  ssize_t sent = sendto(fd, data, length, 0, (struct sockaddr *)&to, sizeof to);
  int err = errno;
  close(fd);
  if (sent < 0) return throw_errno(env, "sendto(AF_PACKET)", err);

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

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"sendFrame", NULL, send_frame, NULL, NULL, NULL, napi_enumerable, NULL},
    {"enterNetworkNamespace", NULL, enter_network_namespace, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
