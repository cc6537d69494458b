{
  "targets": [
    {
      "target_name": "keepalived_native",
      "sources": ["native/keepalived_native.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
