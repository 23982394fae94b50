// React hooks over the typed socket. They use React only (no DOM), so they run in
// React Native as in the browser. useSocket gives one component a socket of its own;
// KarlProvider owns one socket for a whole app, and useApi, useSocketStatus and
// useSocketEvent(event, handler) read it from the context, so screens share it.

import {
  createContext,
  createElement,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactElement,
  type ReactNode,
} from "react";
import type { Socket } from "socket.io-client";

import { createApi, type Api } from "./api";
import { ValidationError, type Reader } from "./checks";
import { openSocket, type CreateSocketOptions, type KarlSocket } from "./socket";
import type { ServerToClientEvents } from "./types";
import { serverEvents } from "./validate";

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
  /**
   * Whether the last connection recovered the previous one (socket.recovered): the server
   * replayed the events sent meanwhile and kept the session. False on the first
   * connection, and after a reconnection that could not recover (the server's recovery
   * window passed, or recovery is off): events may have been missed, see onRecoveryFailed.
   */
  readonly recovered: boolean;
}

// console exists in browsers, Node and React Native; declared here so that the hooks
// type-check without the DOM's types.
declare const console: { warn(message: string): void };
// Timers likewise (browsers, Node and React Native have them; their return types differ).
declare function setTimeout(handler: () => void, ms: number): unknown;
declare function clearTimeout(timer: unknown): void;

const initialStatus: SocketStatus = { state: "connecting", attempt: 0, error: null, recovered: false };
const connectedStatus: SocketStatus = { state: "connected", attempt: 0, error: null, recovered: false };

/** UseSocketOptions are createSocket's options, the server's url and the API's default timeout. */
export type UseSocketOptions = CreateSocketOptions & {
  /** The server's origin, e.g. "https://karl.example". A new url opens a new socket. */
  url: string;
  /** How long an API call waits for its answer when the schema sets no timeout, in ms. */
  timeout?: number;
  /**
   * appState is React Native's AppState (pass AppState itself), or anything that says
   * whether the app is in the foreground ("active"); the hooks do not import react-native.
   * Back to "active" after the background, a socket that is not connected reconnects at
   * once instead of waiting for its backoff.
   */
  appState?: {
    readonly currentState: string | null | undefined;
    addEventListener(type: "change", listener: (state: string) => void): { remove(): void };
  };
  /**
   * netInfo is @react-native-community/netinfo's NetInfo (pass NetInfo itself): when the
   * network comes back, a socket that is not connected reconnects at once.
   */
  netInfo?: { addEventListener(listener: (state: { isConnected: boolean | null }) => void): () => void };
  /**
   * disconnectInBackgroundAfter: close the connection this many ms after the app went to
   * the background (no timers and no radio for a socket nobody looks at), and open it
   * again on "active". The connection is closed as a dropped one is, so a return within
   * the server's recovery window recovers the session and the events sent meanwhile.
   */
  disconnectInBackgroundAfter?: number;
  /**
   * onRecoveryFailed is called when the socket connected again without recovering the
   * previous connection: events sent meanwhile may be lost, re-read the state that matters.
   */
  onRecoveryFailed?: () => void;
};

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
  return useOwnSocket(options);
}

/** useOwnSocket is useSocket; with null options it opens nothing (KarlProvider given a socket). */
function useOwnSocket(options: UseSocketOptions | null): UseSocketResult {
  const latest = useRef(options);
  useEffect(() => {
    latest.current = options;
  });
  const [socket, setSocket] = useState<KarlSocket | null>(null);
  const [status, setStatus] = useState<SocketStatus>(initialStatus);
  const url = options === null ? null : options.url;
  const timeout = options?.timeout;

  useEffect(() => {
    if (url === null || latest.current === null) return;
    const {
      url: _url,
      timeout: _timeout,
      auth: _auth,
      appState,
      netInfo,
      disconnectInBackgroundAfter,
      onRecoveryFailed: _onRecoveryFailed,
      ...socketOptions
    } = latest.current;
    const s = openSocket(url, { ...socketOptions, autoConnect: false }, () => {
      const auth = latest.current?.auth;
      return typeof auth === "function" ? auth() : auth;
    });
    const stopWatching = watchStatus(s, setStatus, () => latest.current?.onRecoveryFailed?.(), {
      appState,
      netInfo,
      disconnectInBackgroundAfter,
    });
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

/** useStatusOf follows the status of a socket the component does not own (null: none). */
function useStatusOf(socket: KarlSocket | null): SocketStatus {
  const [status, setStatus] = useState<SocketStatus>(initialStatus);
  useEffect(() => {
    if (socket === null) return;
    setStatus(socket.connected ? connectedStatus : initialStatus);
    return watchStatus(socket, setStatus);
  }, [socket]);
  return status;
}

/**
 * watchStatus reports the connection events of s to update, and a reconnection that did
 * not recover the previous connection to recoveryFailed. With lifecycle, it reconnects s
 * at once when the app comes back to the foreground or the network comes back, and closes
 * its connection after disconnectInBackgroundAfter ms in the background. It returns the
 * function that stops it.
 */
function watchStatus(
  s: KarlSocket,
  update: (next: (prev: SocketStatus) => SocketStatus) => void,
  recoveryFailed?: () => void,
  lifecycle: { [K in "appState" | "netInfo" | "disconnectInBackgroundAfter"]?: UseSocketOptions[K] | undefined } = {},
): () => void {
  let connectedBefore = s.connected;
  const onConnect = () => {
    const recovered = s.recovered === true;
    update(() => (recovered ? { ...connectedStatus, recovered } : connectedStatus));
    if (connectedBefore && !recovered) recoveryFailed?.();
    connectedBefore = true;
  };
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

  // The app's lifecycle. Reconnecting now: a socket that lost its connection and waits for
  // its next attempt tries at once. disconnect() on a socket that is not connected sends
  // nothing; it closes the manager, whose cleanup cancels the pending attempt, and
  // connect() opens it again. The server still holds the dropped connection's session, so
  // it is recovered as after any reconnection. A socket disconnected on purpose is left alone.
  const reconnectNow = () => {
    if (s.connected || !s.active) return;
    s.disconnect();
    s.connect();
  };
  const { appState, netInfo, disconnectInBackgroundAfter } = lifecycle;
  const stops: (() => void)[] = [];
  let backgroundTimer: unknown;
  let closedInBackground = false;
  const cancelTimer = () => {
    if (backgroundTimer !== undefined) clearTimeout(backgroundTimer);
    backgroundTimer = undefined;
  };
  if (appState) {
    let last = appState.currentState;
    const sub = appState.addEventListener("change", (state) => {
      const was = last;
      last = state;
      if (state === "active" && was !== "active") {
        cancelTimer();
        if (closedInBackground) {
          closedInBackground = false;
          s.io.reconnection(true);
          s.connect();
        } else {
          reconnectNow();
        }
      } else if (state === "background" && disconnectInBackgroundAfter !== undefined && backgroundTimer === undefined) {
        backgroundTimer = setTimeout(() => {
          backgroundTimer = undefined;
          if (!s.active) return;
          closedInBackground = true;
          // Close the transport as a lost connection would, without retrying: the server
          // keeps the session for its recovery window, which socket.disconnect() would end.
          s.io.reconnection(false);
          s.io.engine?.close();
        }, disconnectInBackgroundAfter);
      }
    });
    stops.push(() => sub.remove());
  }
  if (netInfo) {
    let online: boolean | null = null;
    const unsubscribe = netInfo.addEventListener(({ isConnected }) => {
      const was = online;
      online = isConnected;
      if (isConnected === true && was === false && !closedInBackground) reconnectNow();
    });
    stops.push(unsubscribe);
  }

  return () => {
    cancelTimer();
    stops.forEach((stop) => stop());
    if (closedInBackground) s.io.reconnection(true);
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
 * Without a socket argument it listens on the socket of the enclosing KarlProvider.
 */
export function useSocketEvent<E extends keyof ServerToClientEvents>(
  event: E,
  handler: ServerToClientEvents[E],
  options?: SocketEventOptions,
): void;
export function useSocketEvent<E extends keyof ServerToClientEvents>(
  socket: KarlSocket | null | undefined,
  event: E,
  handler: ServerToClientEvents[E],
  options?: SocketEventOptions,
): void;
export function useSocketEvent(...args: unknown[]): void {
  const context = useContext(KarlContext);
  const fromContext = typeof args[0] === "string";
  if (fromContext && context === null) throw new Error("karl: useSocketEvent(event, handler) needs a <KarlProvider> above it");
  // The overloads above type the arguments.
  const [socket, event, handler, options = {}] = (fromContext ? [context?.socket, ...args] : args) as [
    KarlSocket | null | undefined,
    keyof ServerToClientEvents,
    (payload: unknown) => void,
    SocketEventOptions | undefined,
  ];
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
      latest.current.handler(value);
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

/** KarlContextValue is what KarlProvider shares with the hooks below it. */
interface KarlContextValue {
  readonly socket: KarlSocket | null;
  readonly api: Api;
  readonly status: SocketStatus;
}

const KarlContext = createContext<KarlContextValue | null>(null);

/**
 * KarlProviderProps are useSocket's options, for a socket the provider opens and closes,
 * or a socket made elsewhere (createFakeSocket().socket in tests, useSocket's socket, null
 * until it exists), which it leaves open. Choose one form for the provider's lifetime.
 */
export type KarlProviderProps = (UseSocketOptions | GivenSocket) & { children?: ReactNode };

/** GivenSocket is the socket a KarlProvider shares without owning it, and its API's default timeout. */
export interface GivenSocket {
  socket: KarlSocket | null;
  /** How long an API call waits for its answer when the schema sets no timeout, in ms. */
  timeout?: number;
}

/**
 * KarlProvider owns one socket for the components below it: useApi, useSocketStatus and
 * useSocketEvent(event, handler) read it, so every screen shares one connection. Its api
 * exists from the first render: a call made before the socket exists rejects at once with
 * KarlError "not-connected"; once it exists, a call made while it is disconnected follows its
 * event's offline policy (see request: "fail" rejects at once, "queue", the default of
 * idempotent events, waits up to offlineTimeout, "drop" resolves unsent).
 */
export function KarlProvider(props: KarlProviderProps): ReactElement {
  const { children, ...rest } = props;
  const given = "socket" in rest ? rest : null;
  const own = useOwnSocket(given === null ? (rest as UseSocketOptions) : null);
  const givenStatus = useStatusOf(given?.socket ?? null);
  const socket = given === null ? own.socket : given.socket;
  const status = given === null ? own.status : givenStatus;
  const timeout = rest.timeout;
  const api = useMemo(() => createApi(socket ?? offline, timeout === undefined ? {} : { timeout }), [socket, timeout]);
  const value = useMemo<KarlContextValue>(() => ({ socket, status, api }), [socket, status, api]);
  return createElement(KarlContext.Provider, { value }, children);
}

/**
 * offline stands for the socket before it exists: request reads its connected property,
 * and waits for nothing on a socket without once, so every call rejects at once with
 * "not-connected", whatever its event's offline policy ("drop" resolves, unsent). Once
 * the socket exists, a call made while it is disconnected follows that policy.
 */
const offline = { connected: false } as KarlSocket;

/** useKarlContext returns the context of the enclosing KarlProvider, or throws naming hook. */
function useKarlContext(hook: string): KarlContextValue {
  const context = useContext(KarlContext);
  if (context === null) throw new Error(`karl: ${hook}() needs a <KarlProvider> above it`);
  return context;
}

/**
 * useApi returns the Api of the enclosing KarlProvider's socket. It is never null: calls
 * made before the socket exists reject with "not-connected", and calls made while it is
 * disconnected follow their event's offline policy.
 */
export function useApi(): Api {
  return useKarlContext("useApi").api;
}

/** useSocketStatus returns the status of the enclosing KarlProvider's socket. */
export function useSocketStatus(): SocketStatus {
  return useKarlContext("useSocketStatus").status;
}

/** useKarlSocket returns the enclosing KarlProvider's socket; null until it exists. */
export function useKarlSocket(): KarlSocket | null {
  return useKarlContext("useKarlSocket").socket;
}
