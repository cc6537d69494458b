/*
 * Calling JS from a libuv callback (no JS on the stack). napi_make_callback leaves an
 * exception the callback throws pending on the env, and N-API throws it out of the NEXT call
 * into this addon, from whatever unrelated code makes it. Handed to Node's uncaught
 * exception handling instead, as any Node callback's would be.
 */
#ifndef KEEPALIVED_TS_JS_CALLBACK_H
#define KEEPALIVED_TS_JS_CALLBACK_H
#include <node_api.h>

static inline void call_js(napi_env env, napi_async_context context, napi_value resource, napi_value callback, size_t argc,
                           const napi_value *argv) {
  napi_value result;
  if (napi_make_callback(env, context, resource, callback, argc, argv, &result) == napi_pending_exception) {
    napi_value error;
    if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
  }
}
#endif
