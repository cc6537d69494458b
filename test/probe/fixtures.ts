// Builders for checker configs in tests: the parser fills defaults in production; tests
// spell out only what they vary.
import type {
  HealthCheckCommon,
  DnsCheck,
  FileCheck,
  HttpCheck,
  HttpUrl,
  MiscCheck,
  PingCheck,
  SmtpCheck,
  TcpCheck,
  UdpCheck,
} from '../../src/config/model.js';

export const pos = { file: 'test.conf', line: 1, column: 1 };

export function common(over: Partial<HealthCheckCommon> = {}): HealthCheckCommon {
  return {
    connectIp: null,
    connectPort: null,
    bindto: null,
    bindPort: null,
    bindIf: null,
    // Generous: up-path tests must not flake on a loaded machine; timeout tests set their own.
    connectTimeoutMs: 2000,
    retry: 1,
    delayBeforeRetryMs: 50,
    warmupMs: 0,
    delayLoopMs: 100,
    alpha: null,
    pos,
    ...over,
  };
}

export const tcpCheck = (over: Partial<TcpCheck> = {}): TcpCheck => ({ ...common(over), type: 'TCP_CHECK', ...over });

export const url = (over: Partial<HttpUrl> = {}): HttpUrl => ({
  path: '/',
  digest: null,
  statusCodes: [],
  virtualhost: null,
  regex: null,
  pos,
  ...over,
});

export const httpCheck = (over: Partial<HttpCheck> = {}): HttpCheck => ({
  ...common(over),
  type: 'HTTP_GET',
  urls: [url()],
  virtualhost: null,
  enableSni: false,
  httpProtocol: '1.0',
  fastRecovery: false,
  ...over,
});

export const miscCheck = (argv: string[], over: Partial<MiscCheck> = {}): MiscCheck => ({
  ...common(over),
  type: 'MISC_CHECK',
  miscPath: { command: argv.join(' '), argv, user: null, group: null },
  miscTimeoutMs: 500,
  miscDynamic: false,
  user: null,
  group: null,
  ...over,
});

export const smtpCheck = (over: Partial<SmtpCheck> = {}): SmtpCheck => ({
  ...common(over),
  type: 'SMTP_CHECK',
  heloName: 'checker.test',
  hosts: [],
  ...over,
});

export const dnsCheck = (over: Partial<DnsCheck> = {}): DnsCheck => ({
  ...common(over),
  type: 'DNS_CHECK',
  queryType: 'SOA',
  name: '.',
  ...over,
});

export const udpCheck = (over: Partial<UdpCheck> = {}): UdpCheck => ({
  ...common(over),
  type: 'UDP_CHECK',
  payloadHex: null,
  requireReplyHex: null,
  minReplyLength: 0,
  maxReplyLength: 255,
  ...over,
});

export const pingCheck = (over: Partial<PingCheck> = {}): PingCheck => ({ ...common(over), type: 'PING_CHECK', ...over });

export const fileCheck = (trackFile: string, over: Partial<FileCheck> = {}): FileCheck => ({
  ...common(over),
  type: 'FILE_CHECK',
  trackFile,
  weight: null,
  reverse: false,
  ...over,
});
