// Helpers shared by the tests that talk to a real karl-server.

import type { Socket } from "socket.io-client";
import { afterEach } from "vitest";

import { createSocket, type CreateSocketOptions, type KarlSocket, type ServerToClientEvents } from "../../src/index";

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
