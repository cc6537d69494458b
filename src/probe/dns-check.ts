// DNS_CHECK: one query over UDP (RD set, random id). As keepalived: replies too short, with
// another id or without the QR bit are ignored and waiting continues; a matching reply is
// up when its rcode is NOERROR and down otherwise. No reply in time is down.
import dnsPacket from 'dns-packet';
import type { DnsCheck } from '../config/model.js';
import { exchangeDatagram } from './datagram.js';
import { down, resolveEndpoint, up, type CheckContext, type CheckOutcome, type CheckTarget } from './outcome.js';
import { randomId16 } from './random.js';

/** Record types keepalived accepts; anything else falls back to SOA as keepalived does. */
const TYPES = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA'] as const;
type QueryType = (typeof TYPES)[number];

export function queryTypeOf(name: string): QueryType {
  const t = name.toUpperCase();
  return (TYPES as readonly string[]).includes(t) ? (t as QueryType) : 'SOA';
}

export function buildQuery(id: number, name: string, type: string): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: queryTypeOf(type), name: name === '.' ? '.' : name.replace(/\.$/, ''), class: 'IN' }],
  });
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** keepalived's rule for one datagram: 'ignore' keeps waiting. */
export function judgeReply(msg: Buffer, id: number): CheckOutcome | 'ignore' {
  if (msg.length < 12) return 'ignore';
  if (msg.readUInt16BE(0) !== id) return 'ignore';
  const flags = msg.readUInt16BE(2);
  if (!(flags & 0x8000)) return 'ignore'; // a query, not a response
  const rcode = flags & 0x000f;
  return rcode === 0 ? up('NOERROR') : down(`rcode ${RCODES[rcode] ?? rcode}`);
}

export function runDnsCheck(check: DnsCheck, target: CheckTarget, ctx: CheckContext = {}): Promise<CheckOutcome> {
  const ep = resolveEndpoint(check, target);
  const id = randomId16();
  const query = buildQuery(id, check.name, check.queryType);
  return exchangeDatagram(
    {
      ep,
      request: query,
      timeoutMs: check.connectTimeoutMs,
      onTimeout: () => down(`no reply within ${check.connectTimeoutMs} ms`),
      onReply: (msg) => {
        const v = judgeReply(msg, id);
        return v === 'ignore' ? null : v;
      },
    },
    ctx,
  );
}
