import type { HealthCheck, RealServer } from '../../src/config/model.js';
import { realServer as modelRealServer } from '../checker/model-kit.js';
import { pos } from './fixtures.js';

/** 127.0.0.1:80 with these checkers (model-kit's defaults, this folder's position). */
export const realServer = (checkers: HealthCheck[], over: Partial<RealServer> = {}): RealServer => modelRealServer('127.0.0.1', 80, { checkers, pos, ...over });
