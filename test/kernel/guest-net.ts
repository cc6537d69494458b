/**
 * The guest's test topology, shared by the scenarios: a namespace joined to the guest's own
 * (root) namespace by a veth pair, the guest side the namespace's gateway, as a client or a
 * real server behind a VIP the root namespace holds.
 */
export interface Ns {
  ns: string;
  /** The veth end in the root namespace (the gateway side). */
  host: string;
  peer: string;
  gw: string;
  ip: string;
}

/** Namespace `TAG-NAME` on 10.SUBNET.N.0/24: the gateway .1 in the root namespace, the namespace .2. */
export const vethNs = (tag: string, subnet: number, n: number, name: string): Ns => ({
  ns: `${tag}-${name}`,
  host: `${tag}-h${name}`,
  peer: `${tag}-p${name}`,
  gw: `10.${subnet}.${n}.1`,
  ip: `10.${subnet}.${n}.2`,
});

/** The shell commands that create `n` (joined with &&). */
export const createNs = (n: Ns): string =>
  [
    `ip netns add ${n.ns}`,
    `ip link add ${n.host} type veth peer name ${n.peer}`,
    `ip link set ${n.peer} netns ${n.ns}`,
    `ip addr add ${n.gw}/24 dev ${n.host}`,
    `ip link set ${n.host} up`,
    `ip -n ${n.ns} addr add ${n.ip}/24 dev ${n.peer}`,
    `ip -n ${n.ns} link set ${n.peer} up`,
    `ip -n ${n.ns} link set lo up`,
    `ip -n ${n.ns} route add default via ${n.gw}`,
  ].join(' && ');
