{
  "targets": [
    {
      "target_name": "keepalived_native",
      "sources": ["native/keepalived_native.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "keepalived_probe",
      "sources": ["native/tcp_probe.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
