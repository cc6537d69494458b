#!/usr/bin/env bash
# vm.sh - run one command inside a throw-away QEMU guest (TCG) that boots the Debian kernel
# installed on this machine (IPVS as modules) on this machine's own root filesystem.
#
#   guest /               = host / over virtio-9p, read-only
#   guest /etc /var /root = overlayfs (host dir + tmpfs); /tmp and /run = tmpfs
#   guest PROJECT         = the project directory, read-write, same path (the cwd)
#   COMMAND stdout/stderr -> our stdout/stderr (two virtio consoles)
#   exit status = COMMAND's; 124 = timed out; 125 = the VM could not run it
#
# Usage: test/kernel/vm.sh [-t SECS] [-m MB] [-e K=V]... [-k ARG]... [-s] [-v] -- COMMAND [ARGS...]
#   -t  whole-run timeout (default $VM_TIMEOUT or 300)    -m  guest memory (default 1024)
#   -e  environment variable for COMMAND (repeatable)     -v  print the guest console
#   -s  systemd as PID 1: the command runs as the unit kernel-vm-command.service
#   -k  extra kernel command-line argument (repeatable); the guest boots with
#       clocksource=hpet (the TSC calibrated at boot on a busy host makes guest time run
#       fast, which cuts timeouts and watchdog allowances short): -k clocksource=tsc undoes it
# The uncompressed kernel (booted through PVH, several seconds faster under TCG than the
# bzImage) is cached in $KERNEL_VM_CACHE (default PROJECT/.cache/kernel-vm).
# Needs: qemu-system-x86 qemu-system-data busybox-static cpio kmod xz-utils linux-image-amd64
set -euo pipefail

die() { echo "vm.sh: $*" >&2; exit 125; }

PROJECT=$(cd "$(dirname "$0")/../.." && pwd -P)
TIMEOUT=${VM_TIMEOUT:-300} MEM=${VM_MEM:-1024} VERBOSE=0 INIT=sh
CACHE=${KERNEL_VM_CACHE:-$PROJECT/.cache/kernel-vm}
ENVS=()
# every IPVS scheduler, so the first use of one does not pay a module load mid-test
MODULES="ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_fo ip_vs_ovf ip_vs_lblc ip_vs_lblcr
 ip_vs_dh ip_vs_sh ip_vs_mh ip_vs_sed ip_vs_nq ip_vs_pe_sip veth"

KARGS=''
while getopts "t:m:e:k:svh" o; do
  case $o in
    t) TIMEOUT=$OPTARG ;; m) MEM=$OPTARG ;; e) ENVS+=("$OPTARG") ;; v) VERBOSE=1 ;;
    k) KARGS+=" $OPTARG" ;; s) INIT=systemd ;;
    h) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) exit 125 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || die "no command given (see -h)"
for t in qemu-system-x86_64 busybox cpio modprobe timeout; do
  command -v $t >/dev/null || die "missing $t (apt-get install qemu-system-x86 qemu-system-data busybox-static cpio kmod)"
done
BUSYBOX=$(command -v busybox)
ldd "$BUSYBOX" >/dev/null 2>&1 && die "$BUSYBOX is dynamically linked: install busybox-static"

# --- kernel: the newest /boot/vmlinuz-* that ships IPVS modules ------------------------
KVER=${KVER:-}
if [ -z "$KVER" ]; then
  for k in $(ls /boot/vmlinuz-* 2>/dev/null | sed 's|.*/vmlinuz-||' | sort -rV); do
    [ -d "/lib/modules/$k/kernel/net/netfilter/ipvs" ] && { KVER=$k; break; }
  done
fi
[ -n "$KVER" ] || die "no /boot/vmlinuz-* with IPVS modules (apt-get install linux-image-amd64)"
KERNEL=/boot/vmlinuz-$KVER
[ -r "$KERNEL" ] || die "$KERNEL is not readable"

is_elf() { [ "$(head -c 4 "$1" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; }
VMLINUX=$CACHE/vmlinux-$KVER
if grep -qx CONFIG_PVH=y "/boot/config-$KVER" 2>/dev/null &&
   { [ ! -s "$VMLINUX" ] || [ "$VMLINUX" -ot "$KERNEL" ]; } && mkdir -p "$CACHE" 2>/dev/null; then
  tmp=$VMLINUX.$$
  # find the compressed payload inside the bzImage by its magic bytes and unpack it
  for z in 'xz -dc:\xfd7zXZ\x00' 'zstd -qdc:\x28\xb5\x2f\xfd' 'gzip -dc:\x1f\x8b\x08'; do
    for off in $(LC_ALL=C grep -obUaP "${z#*:}" "$KERNEL" | cut -d: -f1); do
      tail -c +$((off + 1)) "$KERNEL" | ${z%%:*} > "$tmp" 2>/dev/null || true
      is_elf "$tmp" && break 2
    done
  done
  if is_elf "$tmp"; then mv "$tmp" "$VMLINUX"; else rm -f "$tmp"; fi
fi
is_elf "$VMLINUX" && [ "$VMLINUX" -nt "$KERNEL" ] && KERNEL=$VMLINUX

# --- per-run directory, shared with the guest as /run/kernel-vm -------------------------
RUN=$(mktemp -d "${TMPDIR:-/tmp}/kt-vm.XXXXXX")
QPID='' READERS=()
cleanup() {
  trap - EXIT INT TERM HUP; set +e
  [ -n "$QPID" ] && kill "$QPID" 2>/dev/null && wait "$QPID" 2>/dev/null
  for f in "$RUN"/out "$RUN"/err; do [ -p "$f" ] && : 1<>"$f"; done  # free waiting readers
  [ ${#READERS[@]} -gt 0 ] && wait "${READERS[@]}" 2>/dev/null
  rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP

# --- initramfs: static busybox and the modules needed to reach the 9p root ----------------
I=$RUN/initfs
mkdir -p "$I"/{bin,mod,dev,proc,sys,newroot}
cp "$BUSYBOX" "$I/bin/busybox"
modprobe -S "$KVER" --show-depends -a virtio_pci 9pnet_virtio 9p overlay virtio_console \
  | awk '$1=="insmod" && !seen[$2]++ {print $2}' > "$RUN/mods"
[ -s "$RUN/mods" ] || die "modprobe -S $KVER --show-depends failed"
while read -r m; do
  b=$(basename "$m"); b=${b%.xz}; b=${b%.zst}; b=${b%.gz}
  case $m in
    *.xz) xz -dc "$m" ;; *.zst) zstd -qdc "$m" ;; *.gz) gzip -dc "$m" ;; *) cat "$m" ;;
  esac > "$I/mod/$b"
  echo "$b" >> "$I/mod/order"
done < "$RUN/mods"
cp "$PROJECT/test/kernel/guest-init.sh" "$I/init"
chmod +x "$I/init"
(cd "$I" && find . | cpio -o -H newc --quiet) > "$RUN/initrd"

# what stage 2 (test/kernel/guest-stage2.sh, run by the guest's PID 1) needs to know
CMD=("$@") MODULES=$(echo $MODULES) GUEST_CWD=$PROJECT
declare -p ENVS CMD MODULES GUEST_CWD INIT > "$RUN/env"
echo "$PROJECT" > "$RUN/project"

# --- qemu ---------------------------------------------------------------------------------
mkfifo "$RUN/out" "$RUN/err"
cat "$RUN/out" & READERS+=($!)
cat "$RUN/err" >&2 & READERS+=($!)
CON=$RUN/console.log
APPEND="console=ttyS0 quiet loglevel=3 panic=-1 cryptomgr.notests mitigations=off"
APPEND+=" tsc=reliable no_timer_check acpi=noirq clocksource=hpet$KARGS"
Q=${RUN//,/,,}   # qemu option syntax doubles commas in paths
P=${PROJECT//,/,,}
A=(-machine pc,accel=tcg -cpu max -smp 1 -m "$MEM"
   -nodefaults -no-user-config -display none -no-reboot
   -kernel "$KERNEL" -initrd "$RUN/initrd" -append "$APPEND"
   -chardev "file,id=con,path=$Q/console.log" -serial chardev:con
   -device virtio-serial-pci,id=vser
   -chardev "file,id=out,path=$Q/out" -device virtconsole,bus=vser.0,chardev=out
   -chardev "file,id=err,path=$Q/err" -device virtconsole,bus=vser.0,chardev=err
   -virtfs local,path=/,mount_tag=kvmroot,security_model=none,readonly=on,multidevs=remap
   -virtfs "local,path=$Q,mount_tag=kvmrun,security_model=none"
   -virtfs "local,path=$P,mount_tag=kvmproject,security_model=none,multidevs=remap")
[ -r /usr/share/qemu/qboot.rom ] && A+=(-bios /usr/share/qemu/qboot.rom)  # faster than SeaBIOS

timeout -k 5 "$TIMEOUT" qemu-system-x86_64 "${A[@]}" </dev/null &
QPID=$!
set +e; wait "$QPID"; QRC=$?; set -e
QPID=''
[ "$VERBOSE" = 1 ] && cat "$CON" >&2
[ -s "$RUN/rc" ] && exit "$(cat "$RUN/rc")"
[ "$QRC" = 124 ] && { echo "vm.sh: timed out after ${TIMEOUT}s" >&2; exit 124; }
echo "vm.sh: no exit status from the guest (qemu exit $QRC); console tail:" >&2
tail -n 30 "$CON" >&2 2>/dev/null
exit 125
