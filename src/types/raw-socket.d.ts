// Types for raw-socket 1.8 (it ships none). Shared by every module that opens raw sockets
// (VRRP transport, ICMP ping checks, IPv6 neighbour advertisements).
declare module 'raw-socket' {
  import { EventEmitter } from 'node:events';

  export const AddressFamily: { IPv4: number; IPv6: number };
  export const Protocol: { None: number; ICMP: number; TCP: number; UDP: number; ICMPv6: number };
  export const SocketLevel: Record<string, number>;
  export const SocketOption: Record<string, number>;

  export interface SocketOptions {
    protocol?: number;
    addressFamily?: number;
    bufferSize?: number;
  }

  export class Socket extends EventEmitter {
    setOption(level: number, option: number, value: number): void;
    setOption(level: number, option: number, value: Buffer, length: number): void;
    getOption(level: number, option: number, value: Buffer, length: number): number;
    send(buffer: Buffer, offset: number, length: number, address: string, afterCallback: (error: Error | null, bytes: number) => void): this;
    send(
      buffer: Buffer,
      offset: number,
      length: number,
      address: string,
      beforeCallback: (() => void) | null,
      afterCallback: (error: Error | null, bytes: number) => void,
    ): this;
    pauseRecv(): this;
    resumeRecv(): this;
    close(): this;
  }

  export function createSocket(options?: SocketOptions): Socket;
  export function createChecksum(...chunks: (Buffer | { buffer: Buffer; offset: number; length: number })[]): number;
  export function writeChecksum(buffer: Buffer, offset: number, checksum: number): Buffer;
  export function htonl(n: number): number;
  export function htons(n: number): number;
  export function ntohl(n: number): number;
  export function ntohs(n: number): number;

  const raw: {
    AddressFamily: typeof AddressFamily;
    Protocol: typeof Protocol;
    SocketLevel: typeof SocketLevel;
    SocketOption: typeof SocketOption;
    Socket: typeof Socket;
    createSocket: typeof createSocket;
    createChecksum: typeof createChecksum;
    writeChecksum: typeof writeChecksum;
  };
  export default raw;
}
