// A fake socket for testing components that use the hooks, without a server: the test
// delivers server events, sees what the component sent, typed, and answers its calls.
// It is an entry of its own, not exported by index.ts: production code never needs it.

import type { Reader } from "./checks";
import type { KarlSocket } from "./socket";
import type { AckResponse, ClientToServerEvents, EventErrorCodes, ServerToClientEvents } from "./types";
import { clientEvents } from "./validate";

/** ClientEventName is the name of a client event, e.g. "set-username". */
export type ClientEventName = keyof ClientToServerEvents & keyof EventErrorCodes & keyof typeof clientEvents;

/** CallPayload is what client event E carries; undefined when it takes no payload. */
export type CallPayload<E extends ClientEventName> =
  (typeof clientEvents)[E]["payload"] extends Reader<infer P> ? P : undefined;

/** CallReply is the data of the answer {ok: true} to client event E; undefined when it has no reply. */
export type CallReply<E extends ClientEventName> = ReturnType<(typeof clientEvents)[E]["reply"]>;

/** CallAnswer is the ack answer to client event E: {ok: true, data} or {ok: false, error}. */
export type CallAnswer<E extends ClientEventName> = AckResponse<CallReply<E>, EventErrorCodes[E]>;

/** FakeCall is one client event the component sent on the fake socket. */
export interface FakeCall<E extends ClientEventName = ClientEventName> {
  readonly event: E;
  readonly payload: CallPayload<E>;
  /** The idempotency key of the request metadata, sent by the Api for idempotent events (the same on every retry). */
  readonly idempotencyKey: string | undefined;
  /** The traceparent of the request metadata, when the app gave one. */
  readonly traceparent: string | undefined;
  /** Whether the event was sent with an ack (every call of the Api is). */
  readonly hasAck: boolean;
  /** Whether the call was answered (reply, fail, respond or an answer handler). */
  readonly answered: boolean;
  /** reply answers {ok: true, data}. Answering twice, or a call without ack, throws. */
  reply(...data: CallReply<E> extends undefined ? [] : [data: CallReply<E>]): void;
  /** fail answers {ok: false, error: {code, message, path}}. */
  fail(code: EventErrorCodes[E], message?: string, path?: string): void;
  /** respond answers with an envelope as the server sends it. */
  respond(answer: CallAnswer<E>): void;
}

/** AnyFakeCall is a FakeCall of any client event, narrowed by its event. */
export type AnyFakeCall = { [E in ClientEventName]: FakeCall<E> }[ClientEventName];

// LooseCall is how the implementation reads a call: AnyFakeCall is never for a schema
// without client events.
type LooseCall = { readonly event: string; readonly payload: unknown };

/** FakeSocketOptions configure createFakeSocket. */
export interface FakeSocketOptions {
  /** Whether the socket starts connected [true]; otherwise call connect(). */
  connected?: boolean;
}

/** FakeSocket is a socket a test drives in place of a server. */
export interface FakeSocket {
  /** The socket to give useSocketEvent, or <KarlProvider socket={...}>. */
  readonly socket: KarlSocket;
  /** Every client event sent so far, in order. */
  readonly calls: readonly AnyFakeCall[];
  /** callsOf returns the calls of one client event so far, in order. */
  callsOf<E extends ClientEventName>(event: E): FakeCall<E>[];
  /**
   * nextCall resolves with the first call of event that no nextCall took yet, waiting
   * for it if there is none: a call made before nextCall was called is not missed.
   */
  nextCall<E extends ClientEventName>(event: E): Promise<FakeCall<E>>;
  /** answer answers every later call of event (sent with an ack) with what handler returns. */
  answer<E extends ClientEventName>(
    event: E,
    handler: (payload: CallPayload<E>) => CallAnswer<E> | Promise<CallAnswer<E>>,
  ): void;
  /** receive delivers a server event to the socket's listeners, as if the server sent it. */
  receive<E extends keyof ServerToClientEvents>(event: E, ...args: Parameters<ServerToClientEvents[E]>): void;
  /** receiveRaw delivers anything as a server event: to test how a component meets a payload the schema refuses. */
  receiveRaw(event: string, ...args: unknown[]): void;
  /** connect connects the socket ("connect" is emitted). */
  connect(): void;
  /** drop loses the connection as the network would: "disconnect", and the socket stays active (reconnecting). */
  drop(): void;
  /** listenerCount is the number of listeners of a server event, to check that a component cleaned up. */
  listenerCount(event: string): number;
}

type FakeListener = (...args: unknown[]) => void;

// Timers exist in browsers, Node and React Native; declared here so that this file
// type-checks without the DOM's or Node's types.
type FakeTimer = { readonly __timer: unique symbol };
declare function setTimeout(callback: () => void, ms: number): FakeTimer;
declare function clearTimeout(timer: FakeTimer | undefined): void;

/** FakeListeners is the small event registry of the fake socket and its manager. */
class FakeListeners {
  private readonly byEvent = new Map<string, FakeListener[]>();

  on(event: string, listener: FakeListener): void {
    this.byEvent.set(event, [...(this.byEvent.get(event) ?? []), listener]);
  }

  off(event?: string, listener?: FakeListener): void {
    if (event === undefined) this.byEvent.clear();
    else if (listener === undefined) this.byEvent.delete(event);
    else this.byEvent.set(event, (this.byEvent.get(event) ?? []).filter((l) => l !== listener));
  }

  emit(event: string, args: unknown[]): void {
    for (const listener of this.byEvent.get(event) ?? []) listener(...args);
  }

  count(event: string): number {
    return this.byEvent.get(event)?.length ?? 0;
  }
}

/**
 * createFakeSocket returns a socket that records what it is asked to send and delivers
 * what the test says the server sent. It implements what the generated hooks and Api use
 * (on, once, off, emit, timeout(ms).emit, emitWithAck, connect, disconnect, connected,
 * active, io.on, io.off); other members of Socket are absent.
 */
export function createFakeSocket(options: FakeSocketOptions = {}): FakeSocket {
  const listeners = new FakeListeners();
  const managerListeners = new FakeListeners();
  const calls: AnyFakeCall[] = [];
  const taken = new Map<string, number>(); // calls of each event that nextCall returned
  const waiting = new Map<string, ((call: AnyFakeCall) => void)[]>();
  const answers = new Map<string, (payload: never) => unknown>();
  let connected = false;
  let active = false;

  // record keeps one emit; ack is its callback, timeout set when sent with socket.timeout(ms).
  const record = (event: string, args: unknown[], timeout: number | undefined): void => {
    const last = args[args.length - 1];
    const ack = typeof last === "function" ? (last as FakeListener) : null;
    const payloadArgs = ack === null ? args : args.slice(0, -1);
    let answered = false;
    let timer: FakeTimer | undefined;
    if (ack !== null && timeout !== undefined) {
      timer = setTimeout(() => {
        answered = true;
        ack(new Error("operation has timed out"));
      }, timeout);
    }
    const respond = (answer: unknown) => {
      if (ack === null) throw new Error(`karl fake socket: "${event}" was sent without an ack: there is nothing to answer`);
      if (answered) throw new Error(`karl fake socket: "${event}" was already answered (or timed out)`);
      answered = true;
      clearTimeout(timer);
      if (timeout === undefined) ack(answer);
      else ack(null, answer);
    };
    const call = {
      event,
      payload: payloadArgs[0],
      idempotencyKey: (payloadArgs[1] as { idempotencyKey?: string } | undefined)?.idempotencyKey,
      traceparent: (payloadArgs[1] as { traceparent?: string } | undefined)?.traceparent,
      hasAck: ack !== null,
      get answered() {
        return answered;
      },
      reply: (...data: unknown[]) => respond(data.length === 0 ? { ok: true } : { ok: true, data: data[0] }),
      fail: (code: string, message = code, path?: string) =>
        respond({ ok: false, error: path === undefined ? { code, message } : { code, message, path } }),
      respond,
    } as unknown as AnyFakeCall;
    calls.push(call);
    const waiter = waiting.get(event)?.shift();
    if (waiter) {
      taken.set(event, (taken.get(event) ?? 0) + 1);
      waiter(call);
    }
    const handler = answers.get(event);
    if (handler && ack !== null) {
      Promise.resolve()
        .then(() => handler((call as LooseCall).payload as never))
        .then(respond);
    }
  };

  const socket = {
    get connected() {
      return connected;
    },
    get active() {
      return active;
    },
    get disconnected() {
      return !connected;
    },
    on(event: string, listener: FakeListener) {
      listeners.on(event, listener);
      return socket;
    },
    once(event: string, listener: FakeListener) {
      const once: FakeListener = (...args) => {
        listeners.off(event, once);
        listener(...args);
      };
      listeners.on(event, once);
      return socket;
    },
    off(event?: string, listener?: FakeListener) {
      listeners.off(event, listener);
      return socket;
    },
    emit(event: string, ...args: unknown[]) {
      record(event, args, undefined);
      return socket;
    },
    timeout(ms: number) {
      return {
        emit(event: string, ...args: unknown[]) {
          record(event, args, ms);
          return socket;
        },
      };
    },
    emitWithAck(event: string, ...args: unknown[]) {
      return new Promise((resolve) => record(event, [...args, resolve], undefined));
    },
    connect() {
      fake.connect();
      return socket;
    },
    disconnect() {
      active = false;
      if (connected) {
        connected = false;
        listeners.emit("disconnect", ["io client disconnect"]);
      }
      return socket;
    },
    close() {
      return socket.disconnect();
    },
    io: {
      on(event: string, listener: FakeListener) {
        managerListeners.on(event, listener);
      },
      off(event?: string, listener?: FakeListener) {
        managerListeners.off(event, listener);
      },
    },
  };

  const fake: FakeSocket = {
    // A subset of Socket: the members the generated code uses (see above).
    socket: socket as unknown as KarlSocket,
    calls,
    callsOf: <E extends ClientEventName>(event: E) =>
      (calls as readonly LooseCall[]).filter((c) => c.event === event) as unknown as FakeCall<E>[],
    nextCall: <E extends ClientEventName>(event: E) => {
      const n = taken.get(event) ?? 0;
      const pending = (calls as readonly LooseCall[]).filter((c) => c.event === event)[n];
      if (pending) {
        taken.set(event, n + 1);
        return Promise.resolve(pending as unknown as FakeCall<E>);
      }
      return new Promise<FakeCall<E>>((resolve) => {
        waiting.set(event, [...(waiting.get(event) ?? []), resolve as (call: AnyFakeCall) => void]);
      });
    },
    answer: (event, handler) => {
      answers.set(event, handler as (payload: never) => unknown);
    },
    receive: (event, ...args) => listeners.emit(event, args),
    receiveRaw: (event, ...args) => listeners.emit(event, args),
    connect: () => {
      active = true;
      if (connected) return;
      connected = true;
      listeners.emit("connect", []);
    },
    drop: () => {
      if (!connected) return;
      connected = false;
      listeners.emit("disconnect", ["transport close"]);
    },
    listenerCount: (event) => listeners.count(event),
  };
  if (options.connected ?? true) {
    connected = true;
    active = true;
  }
  return fake;
}
