# Stage 2 of the guest (PID 1, the host's bash on the host's root): load the IPVS modules,
# run the command with clean pipes, write its exit status for vm.sh, power off.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
. /run/kernel-vm/env
off() { echo o > /proc/sysrq-trigger; sleep 60; }
[ -z "$MODULES" ] || modprobe -a $MODULES || { echo "kernel-vm: modprobe $MODULES failed" >&4; off; }
cd "$GUEST_CWD" || { echo "kernel-vm: cannot cd $GUEST_CWD" >&4; off; }
mkfifo /run/.out /run/.err
cat /run/.out >&3 & co=$!
cat /run/.err >&4 & ce=$!
env -i HOME=/root USER=root LOGNAME=root TERM=dumb LANG=C.UTF-8 KERNEL_VM=1 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  "${ENVS[@]}" "${CMD[@]}" </dev/null >/run/.out 2>/run/.err 3>&- 4>&-
rc=$?
# a leftover background process may hold the pipes open: give up on it after 3 s
( sleep 3; kill $co $ce 2>/dev/null && echo "kernel-vm: a background process kept stdout/stderr open; rest dropped" >&4 ) &
wait $co $ce
sync   # flush writes to the shared directories before reporting
echo $rc > /run/kernel-vm/rc
off
