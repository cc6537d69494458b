import type { Checker, RealServer } from '../../src/config/model.js';
import { pos } from './fixtures.js';

export const realServer = (checkers: Checker[], over: Partial<RealServer> = {}): RealServer => ({
  address: '127.0.0.1',
  port: 80,
  family: 4,
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
  checkers,
  pos,
  ...over,
});
