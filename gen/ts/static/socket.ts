// The connection and the request/answer machinery behind the typed API (api.ts).

import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";

import { asObject, asString, at, fail, required, ValidationError, type Reader } from "./checks";
import type { Auth, ClientToServerEvents, ErrorCode, EventErrorCodes, ServerToClientEvents } from "./types";
import { NAMESPACE } from "./types";

/** KarlSocket is a socket.io-client socket typed with the schema's events. */
export type KarlSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * SOCKET_DEFAULTS are the options createSocket starts from: reconnect with a backoff from
 * 1 s to 5 s, give up after 10 attempts, WebSocket only, and a connection of its own for
 * each socket (no manager shared behind the caller's back).
 */
export const SOCKET_DEFAULTS = {
  reconnection: true,
  reconnectionDelay: 1000,
  reconnectionDelayMax: 5000,
  reconnectionAttempts: 10,
  transports: ["websocket"],
  forceNew: true,
} satisfies Partial<ManagerOptions & SocketOptions>;

/** AuthProvider returns the handshake auth; it is called on every connect and reconnect. */
export type AuthProvider = () => Auth | Promise<Auth>;

/**
 * AuthOption is the handshake auth, or a function that returns it: called on every
 * connect and reconnect, so a token saved a moment ago is the one sent. A function that
 * throws or rejects connects without auth. It may be omitted only when every field of
 * Auth is optional: a required auth field makes it required at compile time.
 */
export type AuthOption = {} extends Auth ? { auth?: Auth | AuthProvider } : { auth: Auth | AuthProvider };

/** CreateSocketOptions are socket.io-client's options, with a typed auth. */
export type CreateSocketOptions = Partial<Omit<ManagerOptions & SocketOptions, "auth">> & AuthOption;

/** CreateSocketArgs are createSocket's options: optional unless Auth has a required field. */
export type CreateSocketArgs = {} extends Auth ? [options?: CreateSocketOptions] : [options: CreateSocketOptions];

/**
 * createSocket opens a socket to the server at url (its origin, e.g.
 * "https://karl.example"; the schema's namespace is added) with SOCKET_DEFAULTS
 * under options.
 */
export function createSocket(url: string, ...[options]: CreateSocketArgs): KarlSocket {
  const { auth, ...rest }: Partial<CreateSocketOptions> = options ?? {};
  return openSocket(url, rest, () => (typeof auth === "function" ? auth() : auth));
}

/**
 * openSocket opens the socket of createSocket with auth read from readAuth on every
 * connect and reconnect. Without an auth (undefined, or a provider that fails) the
 * handshake carries an empty object: that is what socket.io-client sends, not an Auth.
 */
export function openSocket(
  url: string,
  options: Partial<Omit<ManagerOptions & SocketOptions, "auth">>,
  readAuth: () => Auth | Promise<Auth> | undefined,
): KarlSocket {
  const target = NAMESPACE === "/" ? url : url.replace(/\/+$/, "") + NAMESPACE;
  return io(target, {
    ...SOCKET_DEFAULTS,
    ...options,
    auth: (send: (data: object) => void) => {
      Promise.resolve()
        .then(readAuth)
        .then(
          (auth) => send(auth ?? {}),
          () => send({}),
        );
    },
  });
}

/**
 * LocalErrorCode is a code the client gives a failed call itself: "timeout" when no
 * answer came in time, "invalid-response" when the answer does not match the schema,
 * "not-connected" when the socket is not connected (or not there yet) as the call is made.
 */
export type LocalErrorCode = "timeout" | "invalid-response" | "not-connected";

/**
 * KarlError is how a call fails: the server's answer {ok: false} (its code, message and
 * path), a payload refused before it was sent (code "invalid-payload"), or a
 * LocalErrorCode. Its message is meant for people.
 */
export class KarlError<C extends string = ErrorCode | LocalErrorCode> extends Error {
  /** The machine-readable code, e.g. "no-session". */
  readonly code: C;
  /** The client event that failed, e.g. "set-username". */
  readonly event: string;
  /** The payload field at fault, e.g. "username"; "" when the error is not about one field. */
  readonly path: string;

  constructor(event: string, code: C, message: string, path = "") {
    super(message);
    this.name = "KarlError";
    this.event = event;
    this.code = code;
    this.path = path;
  }
}

/** ApiError is the error a call of client event E rejects with. */
export type ApiError<E extends keyof EventErrorCodes> = KarlError<EventErrorCodes[E] | LocalErrorCode>;

/** isKarlError reports whether err is a KarlError, of the given client event if one is named. */
export function isKarlError<E extends keyof EventErrorCodes>(err: unknown, event?: E): err is ApiError<E> {
  return err instanceof KarlError && (event === undefined || err.event === event);
}

/**
 * EventReaders check what a client event sends (null: it takes no payload) and the reply
 * it gets, and say how its calls behave on a flaky network (see request).
 */
export interface EventReaders<P, R> {
  readonly payload: Reader<P> | null;
  readonly reply: Reader<R>;
  /** The server answers a retry with the same idempotency key from its record. */
  readonly idempotent?: boolean;
  /** What a call made while disconnected does: wait for the connection, resolve unsent, or reject. */
  readonly offline?: "queue" | "drop" | "fail";
}

/** CallOptions tune request on a flaky network; createApi passes ApiOptions' ones. */
export interface CallOptions {
  /** How many times an idempotent call is sent again after a timeout or a lost connection [2]. */
  retries?: number;
  /** How long a queued call waits for the connection, in ms, before it rejects with "not-connected" [30000]. */
  offlineTimeout?: number;
  /** Makes the idempotency key of a call: unguessable, as a retry's answer goes to whoever presents it [crypto.getRandomValues]. */
  newIdempotencyKey?: () => string;
  /** Returns the W3C traceparent to send with a call (the app's current span), or undefined for none. */
  traceparent?: () => string | undefined;
}

/**
 * newIdempotencyKey returns 128 random bits, base64url: crypto.getRandomValues where the
 * platform has it (browsers, Node; on React Native install react-native-get-random-values),
 * Math.random otherwise, which is unique enough but guessable.
 */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16);
  const c = (globalThis as { crypto?: { getRandomValues?: (b: Uint8Array) => Uint8Array } }).crypto;
  if (c?.getRandomValues) {
    c.getRandomValues(bytes);
  } else {
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  }
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  let key = "";
  for (const b of bytes) key += alphabet[b & 63]; // 16 characters of 6 random bits: 96 bits
  for (let i = 0; i < bytes.length; i += 2) key += alphabet[((bytes[i] ?? 0) >> 6) | (((bytes[i + 1] ?? 0) >> 6) << 2)];
  return key;
}

// The timers of every platform (browsers, Node, React Native), declared here because
// the package is type-checked without the DOM and Node libraries.
type Timer = { readonly __timer: unique symbol };
declare function setTimeout(callback: () => void, ms: number): Timer;
declare function clearTimeout(timer: Timer): void;

/**
 * waitConnected resolves once socket is connected, or false after ms; false at once for a
 * stand-in that cannot connect (KarlProvider's before its socket exists has no once).
 */
function waitConnected(socket: KarlSocket, ms: number): Promise<boolean> {
  if (socket.connected) return Promise.resolve(true);
  const untyped = socket as unknown as Socket;
  if (typeof untyped.once !== "function") return Promise.resolve(false);
  return new Promise((resolve) => {
    const onConnect = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      untyped.off("connect", onConnect);
      resolve(false);
    }, ms);
    untyped.once("connect", onConnect);
  });
}

/**
 * request sends event with an ack and settles with the answer. The payload is checked
 * first: a refused payload rejects with "invalid-payload" and nothing is sent.
 *
 * On a flaky network it never lets socket.io-client buffer the packet (it would send it on
 * the next connection, after the call may have timed out and been retried): a call made
 * while disconnected follows its event's offline policy. "fail" (the default) rejects at
 * once with "not-connected"; "drop" resolves without sending; "queue" (the default of
 * idempotent events) waits for the connection, up to offlineTimeout. An idempotent call
 * carries an idempotency key in the request metadata, and after a timeout or a lost
 * connection is sent again with the same key, up to retries times: the server answers a
 * repeated key from its record, so the call takes effect once.
 */
export async function request<P, R>(
  socket: KarlSocket,
  event: keyof ClientToServerEvents & string,
  readers: EventReaders<P, R>,
  payload: P | undefined,
  timeout: number,
  options: CallOptions = {},
): Promise<R> {
  const args: unknown[] = [];
  if (readers.payload !== null) {
    try {
      args.push(readers.payload(payload, ""));
    } catch (err) {
      throw fromValidation(event, "invalid-payload", err);
    }
  }
  const offline = readers.offline ?? (readers.idempotent ? "queue" : "fail");
  const meta: { idempotencyKey?: string; traceparent?: string } = {};
  if (readers.idempotent) meta.idempotencyKey = (options.newIdempotencyKey ?? newIdempotencyKey)();
  const traceparent = options.traceparent?.();
  if (traceparent !== undefined) meta.traceparent = traceparent;
  if (meta.idempotencyKey !== undefined || meta.traceparent !== undefined) {
    if (args.length === 0) args.push({}); // the metadata is the second argument
    args.push(meta);
  }
  const retries = readers.idempotent ? (options.retries ?? 2) : 0;
  for (let attempt = 0; ; attempt++) {
    if (!socket.connected) {
      if (offline === "drop") return undefined as R;
      if (offline === "fail" || !(await waitConnected(socket, options.offlineTimeout ?? 30000))) {
        throw new KarlError(event, "not-connected", `not connected to the server: "${event}" was not sent`);
      }
    }
    try {
      return await send<R>(socket, event, args, timeout, readers.reply);
    } catch (err) {
      const retryable = err instanceof KarlError && (err.code === "timeout" || err.code === "not-connected");
      if (!retryable || attempt >= retries) throw err;
    }
  }
}

/** send emits one attempt of a call and waits for its answer. */
function send<R>(socket: KarlSocket, event: string, args: unknown[], timeout: number, readReply: Reader<R>): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const untyped = socket as unknown as Socket;
    const onDisconnect = () => {
      reject(new KarlError(event, "not-connected", `the connection was lost before "${event}" was answered`));
    };
    untyped.once("disconnect", onDisconnect);
    // The event and its payload were checked against the schema above. timeout() also
    // forgets the ack when no answer comes.
    untyped.timeout(timeout).emit(event, ...args, (err: Error | null, answer: unknown) => {
      untyped.off("disconnect", onDisconnect);
      if (err) {
        reject(new KarlError(event, "timeout", `no answer to "${event}" within ${timeout} ms`));
        return;
      }
      try {
        resolve(readAnswer(event, answer, readReply));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** readAnswer reads the ack envelope {ok: true, data} or {ok: false, error}. */
function readAnswer<R>(event: string, answer: unknown, readReply: Reader<R>): R {
  let reply: R;
  try {
    const o = asObject(answer, "");
    if (o["ok"] === false) {
      const e = asObject(o["error"], "error");
      const path = e["path"] == null ? "" : asString(e["path"], at("error", "path"));
      // The server sends only the runtime's codes and those the schema declares for event.
      const code = required(e, "code", "error", asString) as ErrorCode;
      throw new KarlError(event, code, required(e, "message", "error", asString), path);
    }
    if (o["ok"] !== true) fail("ok", "expected true or false");
    reply = readReply(o["data"], "");
  } catch (err) {
    throw fromValidation(event, "invalid-response", err);
  }
  return reply;
}

/** fromValidation turns a ValidationError into a KarlError with code; other errors pass. */
function fromValidation(event: string, code: "invalid-payload" | "invalid-response", err: unknown): unknown {
  if (!(err instanceof ValidationError)) return err;
  return new KarlError(event, code, err.reason, err.path);
}
