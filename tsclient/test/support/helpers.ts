// Helpers shared by the tests that talk to a real karl-server.

import { deflateSync } from "node:zlib";

import type { Socket } from "socket.io-client";
import { afterEach } from "vitest";

import { createSocket, type CreateSocketOptions, type KarlSocket, type ServerToClientEvents } from "../../src/index.js";

/** FAST_RECONNECT makes reconnection quick enough for tests. */
export const FAST_RECONNECT = { reconnectionDelay: 100, reconnectionDelayMax: 300 } as const;

const opened: KarlSocket[] = [];

afterEach(() => {
  for (const s of opened.splice(0)) s.disconnect();
});

/** open creates a socket that is closed after the test; it connects when asked to. */
export function open(url: string, options: CreateSocketOptions = {}): KarlSocket {
  const socket = createSocket(url, { ...FAST_RECONNECT, ...options, autoConnect: false });
  opened.push(socket);
  return socket;
}

/** connect opens a socket (closed after the test) and waits until it is connected. */
export async function connect(url: string, options: CreateSocketOptions = {}): Promise<KarlSocket> {
  const socket = open(url, options);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", (err) => {
      if (!socket.active) reject(err);
    });
    socket.connect();
  });
  return socket;
}

/** untyped returns socket without the schema's typing, to send what the schema forbids. */
export function untyped(socket: KarlSocket): Socket {
  return socket as unknown as Socket;
}

/** nextEvent resolves with the next payload of a server event, as it arrived. */
export function nextEvent<E extends keyof ServerToClientEvents>(socket: KarlSocket, event: E, timeout = 5000): Promise<unknown> {
  const name: string = event;
  return new Promise((resolve, reject) => {
    const raw = untyped(socket);
    const timer = setTimeout(() => {
      raw.off(name, listener);
      reject(new Error(`no "${event}" within ${timeout} ms`));
    }, timeout);
    const listener = (payload: unknown) => {
      clearTimeout(timer);
      raw.off(name, listener);
      resolve(payload);
    };
    raw.on(name, listener);
  });
}

/** sleep waits ms milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** uniqueName returns a username no other test uses: tests share one server. */
export function uniqueName(prefix = "user"): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}

/** png encodes a width x height PNG of one RGB color. */
export function png(width: number, height: number, rgb: [number, number, number] = [200, 40, 90]): Buffer {
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) row.set(rgb, 1 + x * 3); // filter byte 0, then the pixels
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter method, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** pngDataURL is png as a data URL. */
export function pngDataURL(width = 4, height = 3, rgb?: [number, number, number]): string {
  return `data:image/png;base64,${png(width, height, rgb).toString("base64")}`;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = (crcTable[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
