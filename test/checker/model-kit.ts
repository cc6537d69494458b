// Builders for config models in checker tests: keepalived's defaults, overridable per field,
// so a test states only what it is about.
import { virtualServerDefaults } from '../../src/config/build.js';
import type { HealthCheck, KeepalivedConfig, RealServer, TcpCheck, VirtualServer, VirtualServerGroup } from '../../src/config/model.js';

const pos = { file: 'test.conf', line: 1, column: 1 };

export function tcpCheck(over: Partial<TcpCheck> = {}): TcpCheck {
  return {
    type: 'TCP_CHECK',
    connectIp: null,
    connectPort: null,
    bindto: null,
    bindPort: null,
    bindIf: null,
    connectTimeoutMs: 5000,
    retry: 1,
    delayBeforeRetryMs: 1000,
    warmupMs: 0,
    delayLoopMs: 1000,
    alpha: null,
    pos,
    ...over,
  };
}

export function realServer(address: string, port: number, over: Partial<RealServer> = {}): RealServer {
  return {
    address,
    port,
    family: address.includes(':') ? 6 : 4,
    weight: 1,
    uthreshold: 0,
    lthreshold: 0,
    lbKind: null,
    inhibitOnFailure: false,
    notifyUp: null,
    notifyDown: null,
    alpha: false,
    delayLoopMs: 1000,
    smtpAlert: null,
    virtualhost: null,
    checkers: [tcpCheck()] as HealthCheck[],
    pos,
    ...over,
  };
}

export function virtualServer(address: string, port: number, over: Partial<VirtualServer> = {}): VirtualServer {
  // keepalived's defaults, with a shorter delay_loop and rr for tests
  const key = { kind: 'ip' as const, address, port, family: address.includes(':') ? (6 as const) : (4 as const) };
  return { ...virtualServerDefaults(key, pos), delayLoopMs: 1000, lbAlgo: 'rr', ...over };
}

export function group(name: string, members: VirtualServerGroup['members']): VirtualServerGroup {
  return { name, members, pos };
}

export function config(
  virtualServers: VirtualServer[],
  virtualServerGroups: VirtualServerGroup[] = [],
): Pick<KeepalivedConfig, 'virtualServers' | 'virtualServerGroups' | 'globalDefs'> {
  return {
    virtualServers,
    virtualServerGroups,
    globalDefs: {
      lvsTimeouts: null,
      lvsFlush: false,
      lvsFlushOnStop: 'off',
      enableScriptSecurity: false,
      scriptUser: null,
      routerId: 'lb1',
      notificationEmail: [],
      notificationEmailFrom: null,
      smtpServer: null,
      smtpHeloName: 'lb1',
      smtpConnectTimeoutMs: 2000,
      smtpAlert: false,
      smtpAlertChecker: null,
      noCheckerEmails: false,
      lvsSyncDaemon: null,
    } as unknown as KeepalivedConfig['globalDefs'],
  };
}

export { pos };
