#!/usr/bin/env bash
# Runs keepalived-ts in the foreground on an example config inside a throw-away network
# namespace, so trying it never touches this host's own interfaces:
#
#   sudo examples/run-in-netns.sh examples/unicast-peer-pair-node1.conf
#
# The namespace gets a veth for each `interface NAME` the config names, carrying the
# config's unicast_src_ip / mcast_src_ip addresses (or 192.0.2.1/24). Ctrl-C stops the daemon
# (it drops its VIPs and sends priority 0, as keepalived does) and removes the namespace.
# Without kernel IPVS (`modprobe ip_vs`) the checker says so and the VRRP part runs alone.
set -euo pipefail
conf=${1:?usage: $0 CONFIG [extra keepalived-ts options]}
shift
here=$(cd "$(dirname "$0")/.." && pwd)
ns=kt-demo-$$
tmp=$(mktemp -d)

cleanup() {
  ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
mapfile -t ifaces < <(sed -n 's/^[[:space:]]*interface[[:space:]]\+\([^[:space:]#!]\+\).*/\1/p' "$conf" | sort -u)
mapfile -t sources < <(sed -n 's/^[[:space:]]*\(unicast\|mcast\)_src_ip[[:space:]]\+\([^[:space:]#!]\+\).*/\2/p' "$conf" | sort -u)
[ ${#ifaces[@]} -gt 0 ] || ifaces=(eth0)
i=0
for dev in "${ifaces[@]}"; do
  # the far end of each veth stays in the namespace too: nothing leaves it
  ip -n "$ns" link add "$dev" type veth peer name "peer$i"
  ip -n "$ns" link set "$dev" up
  ip -n "$ns" link set "peer$i" up
  i=$((i + 1))
done
if [ ${#sources[@]} -gt 0 ]; then
  for a in "${sources[@]}"; do ip -n "$ns" addr add "$a/24" dev "${ifaces[0]}"; done
else
  ip -n "$ns" addr add 192.0.2.1/24 dev "${ifaces[0]}"
fi
echo "namespace $ns: ${ifaces[*]}; try: sudo ip -n $ns addr   (in another terminal)" >&2
"$here/bin/keepalived-ts" --dont-fork --log-console --namespace "$ns" -f "$conf" \
  -p "$tmp/keepalived.pid" -r "$tmp/vrrp.pid" -c "$tmp/checkers.pid" "$@" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true' INT TERM
wait $daemon || true
wait $daemon 2>/dev/null || true
