# Stage 2 of the guest (PID 1, the host's bash on the host's root): load the IPVS modules,
# run the command with clean pipes, write its exit status for vm.sh, power off.
# With INIT=systemd (vm.sh -s) PID 1 becomes systemd instead, and the command runs as the
# unit kernel-vm-command.service (this script again, with --command).
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
. /run/kernel-vm/env
off() { echo o > /proc/sysrq-trigger; sleep 60; }

if [ "${1:-}" = --command ]; then
  # under systemd: the consoles were closed when systemd took over (hvc resets termios)
  exec 3<>/dev/hvc0 4<>/dev/hvc1 && stty raw -echo <&3 && stty raw -echo <&4 || off
else
  [ -z "$MODULES" ] || modprobe -a $MODULES || { echo "kernel-vm: modprobe $MODULES failed" >&4; off; }
  if [ "$INIT" = systemd ]; then
    U=/etc/systemd/system
    cat > $U/kernel-vm-command.service <<UNIT
[Unit]
Description=kernel-vm: the command vm.sh was given
[Service]
Type=oneshot
TimeoutStartSec=infinity
ExecStart=/bin/bash $GUEST_CWD/test/kernel/guest-stage2.sh --command
UNIT
    # the host's own services and timers stay off: only what the command starts runs
    for t in /etc/systemd/system/timers.target.wants/* /lib/systemd/system/timers.target.wants/* \
             /etc/systemd/system/sockets.target.wants/*; do
      [ -e "$t" ] && ln -sf /dev/null "$U/$(basename "$t")"
    done
    # no generators: fstab, getty, sysv scripts, cryptsetup... are the host's, not the guest's
    mkdir -p /etc/systemd/system-generators
    for g in /lib/systemd/system-generators/*; do ln -sf /dev/null /etc/systemd/system-generators/"${g##*/}"; done
    exec 3>&- 4>&-
    exec /lib/systemd/systemd --unit=kernel-vm-command.service --show-status=false
  fi
fi
cd "$GUEST_CWD" || { echo "kernel-vm: cannot cd $GUEST_CWD" >&4; off; }
mkfifo /run/.out /run/.err
cat /run/.out >&3 & co=$!
cat /run/.err >&4 & ce=$!
env -i HOME=/root USER=root LOGNAME=root TERM=dumb LANG=C.UTF-8 KERNEL_VM=1 KERNEL_VM_INIT="$INIT" \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  "${ENVS[@]}" "${CMD[@]}" </dev/null >/run/.out 2>/run/.err 3>&- 4>&-
rc=$?
# a leftover background process may hold the pipes open: give up on it after 3 s
( sleep 3; kill $co $ce 2>/dev/null && echo "kernel-vm: a background process kept stdout/stderr open; rest dropped" >&4 ) &
wait $co $ce
sync   # flush writes to the shared directories before reporting
echo $rc > /run/kernel-vm/rc
off
