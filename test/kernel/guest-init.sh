#!/bin/busybox sh
# Stage 1 of the guest (PID 1 in the initramfs, busybox only): mount the host root over 9p,
# make the writable parts writable, mount the project read-write at its own path, then hand
# PID 1 over to the host's bash running guest-stage2.sh. Copied into the initramfs by vm.sh.
/bin/busybox --install -s /bin
export PATH=/bin
fail() { echo "kernel-vm init: $*"; poweroff -f; }
mount -t devtmpfs dev /dev; mount -t proc proc /proc; mount -t sysfs sys /sys
for m in $(cat /mod/order); do insmod /mod/$m || fail "insmod $m"; done
# cache=loose: node's require() is ~20x slower with cache=mmap
O=trans=virtio,version=9p2000.L,msize=512000 R=/newroot
for i in 1 2 3 4 5 6 7 8 9 10; do
  mount -t 9p -o $O,ro,cache=loose kvmroot $R && break; sleep 0.2
done
grep -q " $R " /proc/mounts || fail "cannot mount the host root"
mount -t tmpfs -o mode=755 tmpfs $R/run || fail "tmpfs /run"
mkdir $R/run/kernel-vm
mount -t 9p -o $O kvmrun $R/run/kernel-vm || fail "cannot mount the run directory"
mount -t tmpfs -o mode=1777 tmpfs $R/tmp || fail "tmpfs /tmp"
for d in etc var root; do   # writable; changes vanish with the VM
  mkdir -p $R/run/.ovl/$d/u $R/run/.ovl/$d/w
  mount -t overlay -o lowerdir=$R/$d,upperdir=$R/run/.ovl/$d/u,workdir=$R/run/.ovl/$d/w \
    overlay $R/$d || echo "kernel-vm init: warning: /$d stays read-only"
done
P=$(cat $R/run/kernel-vm/project)
mkdir -p "$R$P" 2>/dev/null
mount -t 9p -o $O,cache=loose kvmproject "$R$P" || fail "cannot mount the project $P"
for i in $(seq 1 30); do
  [ -c /dev/hvc1 ] && break; sleep 0.1   # console ports appear asynchronously
done
# keep the consoles open (fd 3,4) across switch_root: hvc resets termios on close
exec 3<>/dev/hvc0 4<>/dev/hvc1 || fail "no /dev/hvc0,1"
stty raw -echo <&3; stty raw -echo <&4
for d in dev proc sys; do mount --move /$d $R/$d; done
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $R/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
ln -s /proc/self/fd $R/dev/fd; ln -s fd/0 $R/dev/stdin
ln -s fd/1 $R/dev/stdout; ln -s fd/2 $R/dev/stderr
hostname kernel-vm; ip link set lo up
[ -r "$R$P/test/kernel/guest-stage2.sh" ] || fail "$P/test/kernel/guest-stage2.sh missing"
exec switch_root $R /bin/bash "$P/test/kernel/guest-stage2.sh"
