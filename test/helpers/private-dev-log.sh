#!/bin/sh
# Runs "$@" with a syslog listener at /dev/log, inside the caller's private mount namespace
# (`unshare -m --propagation private`): /dev becomes a tmpfs holding the usual device nodes
# (bind mounts of the host's) and the listener's socket, so nothing appears in the host's /dev.
# The listener's datagrams go to $SYSLOG_OUT, one JSON string per line.
set -eu
here=$(dirname "$0")
d=$(mktemp -d /tmp/kt-devlog.XXXXXX)
mount -t tmpfs -o mode=755 tmpfs "$d"
for n in null zero full random urandom tty; do
  touch "$d/$n"
  mount --bind "/dev/$n" "$d/$n"
done
mkdir "$d/pts" "$d/shm"
mount --bind /dev/pts "$d/pts"
mount -t tmpfs -o mode=1777 tmpfs "$d/shm"
ln -s /proc/self/fd "$d/fd"
ln -s /proc/self/fd/0 "$d/stdin"
ln -s /proc/self/fd/1 "$d/stdout"
ln -s /proc/self/fd/2 "$d/stderr"
mount --move "$d" /dev
rmdir "$d"
node "$here/syslog-listener.mjs" /dev/log >"$SYSLOG_OUT" &
listener=$!
while [ ! -S /dev/log ]; do sleep 0.05; done
set +e
"$@"
code=$?
kill "$listener" 2>/dev/null
exit $code
