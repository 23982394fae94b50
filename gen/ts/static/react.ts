// React hooks over the typed socket. They use React only (no DOM), so they run in
// React Native as in the browser.

import { useEffect, useMemo, useRef, useState } from "react";
import type { Socket } from "socket.io-client";

import { createApi, type Api } from "./api.js";
import { ValidationError, type Reader } from "./checks.js";
import { createSocket, type CreateSocketOptions, type KarlSocket } from "./socket.js";
import type { ServerToClientEvents } from "./types.js";
import { serverEvents } from "./validate.js";

/**
 * ConnectionState is where a socket stands: "connecting" for the first time,
 * "connected", "reconnecting" after losing the connection, "disconnected" by either
 * side on purpose, or "failed": the handshake was refused or every attempt failed.
 */
export type ConnectionState = "connecting" | "connected" | "reconnecting" | "disconnected" | "failed";

/** SocketStatus is the state of a socket with its reconnection attempt and last error. */
export interface SocketStatus {
  readonly state: ConnectionState;
  /** The reconnection attempt under way or last made; 0 once connected. */
  readonly attempt: number;
  /** The last connection error (connect_error; a refused handshake carries data {code, message}); null once connected. */
  readonly error: Error | null;
}

// console exists in browsers, Node and React Native; declared here so that the hooks
// type-check without the DOM's types.
declare const console: { warn(message: string): void };

const initialStatus: SocketStatus = { state: "connecting", attempt: 0, error: null };

/** UseSocketOptions are createSocket's options, the server's url and the API's default timeout. */
export interface UseSocketOptions extends CreateSocketOptions {
  /** The server's origin, e.g. "https://karl.example". A new url opens a new socket. */
  url: string;
  /** How long an API call waits for its answer when the schema sets no timeout, in ms. */
  timeout?: number;
}

/** UseSocketResult is what useSocket gives its owner; socket and api are null until the socket exists. */
export interface UseSocketResult {
  readonly socket: KarlSocket | null;
  readonly api: Api | null;
  readonly status: SocketStatus;
}

/**
 * useSocket opens one socket for the component that calls it: created in an effect and
 * closed in the effect's cleanup, so StrictMode's second mount leaves one live socket.
 * It connects once the socket is rendered (autoConnect is ignored).
 * Options other than url are read when the socket is created; auth is read on every
 * connect and reconnect, from the latest render.
 */
export function useSocket(options: UseSocketOptions): UseSocketResult {
  const latest = useRef(options);
  useEffect(() => {
    latest.current = options;
  });
  const [socket, setSocket] = useState<KarlSocket | null>(null);
  const [status, setStatus] = useState<SocketStatus>(initialStatus);
  const { url, timeout } = options;

  useEffect(() => {
    const { url: _url, timeout: _timeout, auth: _auth, ...socketOptions } = latest.current;
    const s = createSocket(url, {
      ...socketOptions,
      autoConnect: false,
      auth: () => {
        const auth = latest.current.auth;
        return typeof auth === "function" ? auth() : (auth ?? {});
      },
    });
    const stopWatching = watchStatus(s, setStatus);
    setStatus(initialStatus);
    setSocket(s);
    return () => {
      stopWatching();
      s.disconnect();
      setSocket(null);
    };
  }, [url]);

  // Connect once the socket is rendered: the useSocketEvent effects of that render run in
  // the same flush, so their listeners are in place before the server can say anything
  // (reconnected, token-expired). Under StrictMode the first socket never connects.
  useEffect(() => {
    socket?.connect();
  }, [socket]);

  const api = useMemo(() => (socket === null ? null : createApi(socket, timeout === undefined ? {} : { timeout })), [socket, timeout]);
  return { socket, api, status };
}

/** watchStatus reports the connection events of s to update; it returns the function that stops it. */
function watchStatus(s: KarlSocket, update: (next: (prev: SocketStatus) => SocketStatus) => void): () => void {
  const onConnect = () => update(() => ({ state: "connected", attempt: 0, error: null }));
  const onDisconnect = () =>
    update((prev) => ({ ...prev, state: s.active ? "reconnecting" : "disconnected" }));
  // While the socket is active the manager tries again; otherwise the server refused the handshake.
  const onConnectError = (error: Error) =>
    update((prev) => ({ ...prev, state: s.active ? prev.state : "failed", error }));
  const onAttempt = (attempt: number) => update((prev) => ({ ...prev, state: "reconnecting", attempt }));
  const onGiveUp = () => update((prev) => ({ ...prev, state: "failed" }));
  s.on("connect", onConnect);
  s.on("disconnect", onDisconnect);
  s.on("connect_error", onConnectError);
  s.io.on("reconnect_attempt", onAttempt);
  s.io.on("reconnect_failed", onGiveUp);
  return () => {
    s.off("connect", onConnect);
    s.off("disconnect", onDisconnect);
    s.off("connect_error", onConnectError);
    s.io.off("reconnect_attempt", onAttempt);
    s.io.off("reconnect_failed", onGiveUp);
  };
}

/** SocketEventOptions configure useSocketEvent. */
export interface SocketEventOptions {
  /**
   * onInvalid receives a payload that does not match the schema, instead of the handler.
   * Without it the payload is dropped with a console warning.
   */
  onInvalid?: (error: ValidationError, payload: unknown) => void;
}

/**
 * useSocketEvent calls handler with each payload of a server event that passes the
 * schema's checks. It subscribes once per socket and event, always calls the latest
 * handler, and removes exactly its own listener on unmount or when the socket changes.
 */
export function useSocketEvent<E extends keyof ServerToClientEvents>(
  socket: KarlSocket | null | undefined,
  event: E,
  handler: ServerToClientEvents[E],
  options: SocketEventOptions = {},
): void {
  const latest = useRef({ handler, onInvalid: options.onInvalid });
  useEffect(() => {
    latest.current = { handler, onInvalid: options.onInvalid };
  });

  useEffect(() => {
    if (!socket) return;
    const read: Reader<unknown> = serverEvents[event];
    const listener = (payload: unknown) => {
      let value: unknown;
      try {
        value = read(payload, "");
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        const { onInvalid } = latest.current;
        if (onInvalid) onInvalid(err, payload);
        else console.warn(`karl: dropped an invalid "${event}" payload: ${err.message}`);
        return;
      }
      (latest.current.handler as (payload: unknown) => void)(value);
    };
    // The listener checks the payload against the schema itself.
    const untyped = socket as unknown as Socket;
    const name: string = event;
    untyped.on(name, listener);
    return () => {
      untyped.off(name, listener);
    };
  }, [socket, event]);
}
