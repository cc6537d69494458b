/*
 * TCP connect probes for TCP_CHECK, the way keepalived's checker does them: a non-blocking
 * socket, connect(), wait until it is writable, read SO_ERROR, close. Node's net.Socket
 * builds a stream, an event emitter, a libuv handle and a connect request per connection
 * (~45 us of CPU each, measured); at 10,000 checks a second that alone exceeds keepalived's
 * whole CPU budget. Here a probe costs the system calls plus one small call from JS.
 *
 * Targets are registered once (by small integer id) so a probe is `connect(id)`. Probes in
 * flight sit in one epoll set of our own, which libuv watches through a single uv_poll;
 * when it is readable every finished probe is read and closed in C and the JS callback is
 * called once with their [id, errno] pairs in a shared Int32Array. Timeouts are the
 * caller's business: it drains finished probes, then sweeps its deadlines and calls
 * cancel(id) on what is still connecting.
 *
 * connect() returns -1 while in flight, 0 when it connected at once (common on loopback:
 * the handshake completes inside the call), or the errno of an immediate failure.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>
#include "js_callback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

typedef union {
  struct sockaddr sa;
  struct sockaddr_in v4;
  struct sockaddr_in6 v6;
} addr_t;

/* Rarely used connection options live apart so a plain target stays small. */
typedef struct {
  addr_t addr;
  bool has_addr;
} bind_t;

typedef struct {
  addr_t dst;
  bind_t *bind; /* NULL: no bindto / bind_port */
  int fd;       /* -1: no probe in flight */
  bool used;
} target_t;

static target_t *targets;
static uint32_t n_targets;
static int epoll_fd = -1;
static uv_poll_t poll_handle;
static napi_env probe_env;
static napi_ref callback_ref;
static napi_ref results_ref;
static napi_async_context async_context;
static int32_t *results;
static uint32_t results_pairs;
static uint32_t in_flight;

static napi_value throw_msg(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static napi_value int_value(napi_env env, int32_t v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

static bool grow(uint32_t id) {
  if (id < n_targets) return true;
  uint32_t n = n_targets ? n_targets : 1024;
  while (n <= id) n *= 2;
  target_t *t = realloc(targets, (size_t)n * sizeof *t);
  if (!t) return false;
  for (uint32_t i = n_targets; i < n; i++) t[i] = (target_t){.fd = -1};
  targets = t;
  n_targets = n;
  return true;
}

static void finish(uint32_t id, int err, uint32_t *count) {
  target_t *t = &targets[id];
  close(t->fd);
  t->fd = -1;
  in_flight--;
  results[2 * *count] = (int32_t)id;
  results[2 * *count + 1] = err;
  (*count)++;
}

/* Read up to one batch of finished probes into `results`; returns how many. */
static uint32_t collect(void) {
  struct epoll_event evs[512];
  uint32_t max = results_pairs < 512 ? results_pairs : 512;
  int n = epoll_wait(epoll_fd, evs, (int)max, 0);
  uint32_t count = 0;
  for (int i = 0; i < n; i++) {
    uint32_t id = evs[i].data.u32;
    if (id >= n_targets || targets[id].fd < 0) continue;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(targets[id].fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    /* writable with no error is connected; a still-pending connect is not reported writable */
    finish(id, err, &count);
  }
  return count;
}

static void on_ready(uv_poll_t *handle, int status, int events) {
  (void)handle; (void)status; (void)events;
  uint32_t count = collect();
  if (!count) return;
  napi_handle_scope scope;
  napi_open_handle_scope(probe_env, &scope);
  napi_value cb, resource, arg;
  napi_get_reference_value(probe_env, callback_ref, &cb);
  napi_get_global(probe_env, &resource);
  napi_create_uint32(probe_env, count, &arg);
  call_js(probe_env, async_context, resource, cb, 1, &arg);
  napi_close_handle_scope(probe_env, scope);
}

/*
 * drain(): deliver every probe that has finished, now, from JS. Node runs timers before it
 * polls for I/O, so on a busy host a connect can be complete and unread when its deadline
 * comes due: the caller drains before judging deadlines.
 */
static napi_value probe_drain(napi_env env, napi_callback_info info) {
  (void)info;
  uint32_t total = 0;
  for (;;) {
    uint32_t count = collect();
    if (!count) break;
    total += count;
    napi_value cb, recv, arg, ret;
    napi_get_reference_value(env, callback_ref, &cb);
    napi_get_undefined(env, &recv);
    napi_create_uint32(env, count, &arg);
    if (napi_call_function(env, recv, cb, 1, &arg, &ret) != napi_ok) break; /* an exception is pending: let it surface */
  }
  return int_value(env, (int32_t)total);
}

/* init(results: Int32Array, onResults: (count) => void) */
static napi_value probe_init(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return throw_msg(env, "init(results, callback)");
  if (epoll_fd >= 0) return throw_msg(env, "tcp probe already initialised");
  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, &ab, &offset) != napi_ok || type != napi_int32_array || length < 2)
    return throw_msg(env, "results must be an Int32Array of at least 2 elements");
  epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return throw_msg(env, "epoll_create1 failed");
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  if (uv_poll_init(loop, &poll_handle, epoll_fd) != 0) return throw_msg(env, "uv_poll_init failed");
  uv_poll_start(&poll_handle, UV_READABLE, on_ready);
  /* in-flight probes always have a deadline timer in JS; that keeps the loop alive */
  uv_unref((uv_handle_t *)&poll_handle);
  probe_env = env;
  results = data;
  results_pairs = (uint32_t)(length / 2);
  napi_create_reference(env, argv[0], 1, &results_ref);
  napi_create_reference(env, argv[1], 1, &callback_ref);
  napi_value name;
  napi_create_string_utf8(env, "keepalived-ts:tcp-probe", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &async_context);
  return NULL;
}

static bool read_addr(napi_env env, napi_value v, int32_t family, int32_t port, const char *scope_if, addr_t *out) {
  bool is_buffer = false;
  void *data;
  size_t len;
  if (napi_is_buffer(env, v, &is_buffer) != napi_ok || !is_buffer || napi_get_buffer_info(env, v, &data, &len) != napi_ok) return false;
  memset(out, 0, sizeof *out);
  if (family == 4 && len == 4) {
    out->v4.sin_family = AF_INET;
    out->v4.sin_port = htons((uint16_t)port);
    memcpy(&out->v4.sin_addr, data, 4);
    return true;
  }
  if (family == 6 && len == 16) {
    out->v6.sin6_family = AF_INET6;
    out->v6.sin6_port = htons((uint16_t)port);
    memcpy(&out->v6.sin6_addr, data, 16);
    if (scope_if && scope_if[0]) out->v6.sin6_scope_id = if_nametoindex(scope_if);
    return true;
  }
  return false;
}

/* target(id, family, addr: Buffer, port, bindAddr: Buffer | null, bindPort, scopeIf: string) */
static napi_value probe_target(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  int32_t id, family, port, bind_port;
  char scope_if[IF_NAMESIZE] = "";
  size_t scope_len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7 ||
      napi_get_value_int32(env, argv[0], &id) != napi_ok || id < 0 ||
      napi_get_value_int32(env, argv[1], &family) != napi_ok ||
      napi_get_value_int32(env, argv[3], &port) != napi_ok ||
      napi_get_value_int32(env, argv[5], &bind_port) != napi_ok)
    return throw_msg(env, "target(id, family, addr, port, bindAddr, bindPort, scopeIf)");
  napi_get_value_string_utf8(env, argv[6], scope_if, sizeof scope_if, &scope_len);
  if (!grow((uint32_t)id)) return throw_msg(env, "out of memory");
  target_t *t = &targets[id];
  if (t->fd >= 0) return throw_msg(env, "target has a probe in flight");
  if (!read_addr(env, argv[2], family, port, scope_if, &t->dst)) return throw_msg(env, "bad target address");
  free(t->bind);
  t->bind = NULL;
  napi_valuetype bt;
  napi_typeof(env, argv[4], &bt);
  if (bt != napi_null || bind_port > 0) {
    t->bind = calloc(1, sizeof *t->bind);
    if (!t->bind) return throw_msg(env, "out of memory");
    if (bt != napi_null) {
      if (!read_addr(env, argv[4], family, bind_port, scope_if, &t->bind->addr)) return throw_msg(env, "bad bind address");
    } else if (family == 4) {
      t->bind->addr.v4.sin_family = AF_INET;
      t->bind->addr.v4.sin_port = htons((uint16_t)bind_port);
    } else {
      t->bind->addr.v6.sin6_family = AF_INET6;
      t->bind->addr.v6.sin6_port = htons((uint16_t)bind_port);
    }
    t->bind->has_addr = true;
  }
  t->used = true;
  return NULL;
}

/* connect(id): -1 in flight, 0 connected at once, > 0 errno of an immediate failure */
static napi_value probe_connect(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t id;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &id) != napi_ok || id < 0 || (uint32_t)id >= n_targets || !targets[id].used)
    return throw_msg(env, "connect(id) needs a registered target");
  target_t *t = &targets[id];
  if (t->fd >= 0) return throw_msg(env, "a probe is already in flight for this target");
  int fd = socket(t->dst.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) return int_value(env, errno);
  if (t->bind) {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t blen = t->bind->addr.sa.sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    if (bind(fd, &t->bind->addr.sa, blen) < 0) {
      int e = errno;
      close(fd);
      return int_value(env, e);
    }
  }
  socklen_t len = t->dst.sa.sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
  if (connect(fd, &t->dst.sa, len) == 0) {
    close(fd);
    return int_value(env, 0);
  }
  int e = errno;
  if (e != EINPROGRESS) {
    close(fd);
    return int_value(env, e);
  }
  struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)id};
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    e = errno;
    close(fd);
    return int_value(env, e);
  }
  t->fd = fd;
  in_flight++;
  return int_value(env, -1);
}

/* The one non-negative integer argument of cancel(id) and release(id). */
static bool id_arg(napi_env env, napi_callback_info info, int32_t *id) {
  size_t argc = 1;
  napi_value argv[1];
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= 1 &&
         napi_get_value_int32(env, argv[0], id) == napi_ok && *id >= 0;
}

static void cancel(uint32_t id) {
  if (id >= n_targets || targets[id].fd < 0) return;
  close(targets[id].fd); /* closing removes it from the epoll set */
  targets[id].fd = -1;
  in_flight--;
}

/* cancel(id): drop a probe in flight (its deadline passed); no result is reported */
static napi_value probe_cancel(napi_env env, napi_callback_info info) {
  int32_t id;
  if (!id_arg(env, info, &id)) return throw_msg(env, "cancel(id)");
  cancel((uint32_t)id);
  return NULL;
}

/* release(id): forget a target (cancelling its probe) so the id can be reused */
static napi_value probe_release(napi_env env, napi_callback_info info) {
  int32_t id;
  if (!id_arg(env, info, &id)) return throw_msg(env, "release(id)");
  if ((uint32_t)id >= n_targets) return NULL;
  cancel((uint32_t)id);
  free(targets[id].bind);
  targets[id] = (target_t){.fd = -1};
  return NULL;
}

/* inFlight(): probes waiting for the kernel (for tests and leak checks) */
static napi_value probe_in_flight(napi_env env, napi_callback_info info) {
  (void)info;
  return int_value(env, (int32_t)in_flight);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"init", NULL, probe_init, NULL, NULL, NULL, napi_enumerable, NULL},
    {"target", NULL, probe_target, NULL, NULL, NULL, napi_enumerable, NULL},
    {"connect", NULL, probe_connect, NULL, NULL, NULL, napi_enumerable, NULL},
    {"cancel", NULL, probe_cancel, NULL, NULL, NULL, napi_enumerable, NULL},
    {"release", NULL, probe_release, NULL, NULL, NULL, napi_enumerable, NULL},
    {"inFlight", NULL, probe_in_flight, NULL, NULL, NULL, napi_enumerable, NULL},
    {"drain", NULL, probe_drain, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
