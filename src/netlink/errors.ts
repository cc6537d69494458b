/**
 * Typed netlink failures: the errno the kernel returned, its symbolic name, and a sentence
 * that says what we were doing, e.g.
 *   "add 192.0.2.10/24 on ifindex 3: File exists (EEXIST)".
 */
import { constants } from 'node:os';

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, value]) => [value, name] as [number, string]));

// strerror() text for the errnos rtnetlink returns in practice; Node 20 has no public API for it.
const ERRNO_SENTENCES: Record<string, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EINTR: 'Interrupted system call',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  ENODEV: 'No such device',
  EINVAL: 'Invalid argument',
  ENOSPC: 'No space left on device',
  ERANGE: 'Numerical result out of range',
  E2BIG: 'Argument list too long',
  EMSGSIZE: 'Message too long',
  EPROTONOSUPPORT: 'Protocol not supported',
  EOPNOTSUPP: 'Operation not supported',
  EAFNOSUPPORT: 'Address family not supported by protocol',
  EADDRINUSE: 'Address already in use',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ENETDOWN: 'Network is down',
  ENOBUFS: 'No buffer space available',
  ETIMEDOUT: 'Connection timed out',
};

export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

export function errnoSentence(errno: number): string {
  return ERRNO_SENTENCES[errnoName(errno)] ?? `error ${errno}`;
}

export class NetlinkError extends Error {
  override readonly name = 'NetlinkError';
  /** Positive errno (EEXIST = 17, ...). */
  readonly errno: number;
  /** Symbolic errno name, e.g. 'EEXIST'. */
  readonly code: string;
  /** What we asked the kernel, e.g. 'add 192.0.2.10/24 on ifindex 3'. */
  readonly operation: string;
  /** The kernel's extended-ack text, when it sent one. */
  readonly kernelMessage: string | null;

  constructor(operation: string, errno: number, kernelMessage: string | null = null) {
    const code = errnoName(errno);
    const detail = kernelMessage ? ` [${kernelMessage}]` : '';
    super(`${operation}: ${errnoSentence(errno)} (${code})${detail}`);
    this.errno = errno;
    this.code = code;
    this.operation = operation;
    this.kernelMessage = kernelMessage;
  }
}

/**
 * Failures that are not the kernel refusing a request: no answer in time (ETIMEDOUT), answers
 * lost to a socket error (e.g. ENOBUFS), a closed socket (no errno).
 */
export class NetlinkTransportError extends Error {
  override readonly name = 'NetlinkTransportError';
  readonly errno: number | null;
  readonly code: string | null;

  constructor(message: string, errno: number | null = null) {
    super(message);
    this.errno = errno;
    this.code = errno === null ? null : errnoName(errno);
  }
}
