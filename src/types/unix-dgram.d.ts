// The parts of unix-dgram (AF_UNIX SOCK_DGRAM sockets, which Node's dgram lacks) we use.
declare module 'unix-dgram' {
  import type { EventEmitter } from 'node:events';

  export interface UnixDgramSocket extends EventEmitter {
    connected?: boolean;
    bind(path: string): void;
    /** Synchronous: emits 'connect' or 'error' before it returns. */
    connect(path: string): void;
    /** On a connected socket; the callback gets an error, or one whose message is 'congestion'. */
    send(buf: Buffer, callback?: (err?: Error) => void): void;
    send(buf: Buffer, offset: number, length: number, path: string, callback?: (err?: Error) => void): void;
    close(): void;
  }

  export function createSocket(type: 'unix_dgram', listener?: (msg: Buffer) => void): UnixDgramSocket;
  const unixDgram: { createSocket: typeof createSocket };
  export default unixDgram;
}
