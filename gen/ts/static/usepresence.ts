// usePresence: who is in one typed room, as React state. It listens to the state and
// diff events of the room's kind with useSocketEvent (so events are checked against
// the schema, and exactly its own listeners are removed on unmount), and keeps the
// member list with the reducer of presence.ts, which documents the server's contract.

import { useMemo, useState } from "react";

import {
  applyPresenceDiff,
  applyPresenceState,
  createPresenceList,
  type PresenceDiffEvent,
  type PresenceMemberLike,
  type PresenceStateEvent,
  type PresenceList,
} from "./presence";
import { useKarlSocket, useSocketEvent, type SocketEventOptions } from "./react";
import { rooms, type PresenceKind, type PresenceMember, type PresenceParams } from "./rooms";
import type { KarlSocket } from "./socket";
import type { ServerToClientEvents } from "./types";

/** UsePresenceOptions configure usePresence. */
export interface UsePresenceOptions extends SocketEventOptions {
  /**
   * The socket to listen on (null until it exists); without it, the socket of the
   * enclosing KarlProvider. Choose one form for the component's lifetime.
   */
  socket?: KarlSocket | null;
}

/** UsePresenceResult is the presence of one room. */
export interface UsePresenceResult<K extends PresenceKind> {
  /** The members, in the order they joined, the user's own socket included once joined; empty until ready. */
  readonly members: readonly PresenceMember<K>[];
  /** Whether the state of the room arrived (the socket joined it): members is the room's. */
  readonly ready: boolean;
  /** The id of this socket's own entry in members (e.g. to mark "you"); undefined until ready. */
  readonly self: string | undefined;
}

/** PresenceHeld is what usePresence keeps: the presence of the room it follows, that room's key and the socket. */
interface PresenceHeld {
  readonly key: string;
  readonly socket: KarlSocket | null | undefined;
  readonly presence: PresenceList<PresenceMemberLike>;
}

/** PresenceRoomInfo is an entry of rooms, as the hook reads it. */
interface PresenceRoomInfo {
  readonly state: keyof ServerToClientEvents;
  readonly diff: keyof ServerToClientEvents;
  readonly params: readonly string[];
}

/**
 * usePresence returns who is in the room of kind named by params, e.g.
 * usePresence("chat", { room: "lobby" }): the members from the room's state event and
 * the diffs after it (diffs that come first are applied after the state). Joining the
 * room is the app's call (e.g. api.joinRoom); the server then sends the state. Events of
 * other rooms of the kind are ignored; new params (or kind), or another socket, start
 * over from no member and not ready. Params are compared as the server sends them back:
 * pass them as the schema normalizes them (trimmed, NFC). Without options.socket it
 * listens on the enclosing KarlProvider's socket.
 */
export function usePresence<K extends PresenceKind>(
  kind: K,
  params: PresenceParams<K>,
  options: UsePresenceOptions = {},
): UsePresenceResult<K> {
  const info: PresenceRoomInfo = rooms[kind];
  const named = params as unknown as Readonly<Record<string, unknown>>;
  const values = info.params.map((name) => named[name]);
  const key = JSON.stringify([kind, ...values]);
  const room = useMemo(() => Object.fromEntries(info.params.map((name, i) => [name, values[i]])), [key]);

  const { socket: given, ...eventOptions } = options;
  const socket = useSocketOf(given);

  const [held, setHeld] = useState<PresenceHeld>(() => ({ key, socket, presence: createPresenceList(room) }));
  let current = held;
  if (held.key !== key || held.socket !== socket) {
    // New params or another socket: start over, during this render, before any event of
    // the new room is applied.
    current = { key, socket, presence: createPresenceList(room) };
    setHeld(current);
  }

  const update = (next: (p: PresenceList<PresenceMemberLike>) => PresenceList<PresenceMemberLike>) =>
    setHeld((prev) => {
      const presence = next(prev.presence);
      return presence === prev.presence ? prev : { ...prev, presence };
    });
  const onState = (payload: PresenceStateEvent<PresenceMemberLike>) => update((p) => applyPresenceState(p, payload));
  const onDiff = (payload: PresenceDiffEvent<PresenceMemberLike>) => update((p) => applyPresenceDiff(p, payload));

  useSocketEvent(socket, info.state, onState as ServerToClientEvents[typeof info.state], eventOptions);
  useSocketEvent(socket, info.diff, onDiff as ServerToClientEvents[typeof info.diff], eventOptions);

  const { members, ready, self } = current.presence;
  return useMemo(() => ({ members: members as readonly PresenceMember<K>[], ready, self }), [members, ready, self]);
}

/**
 * useSocketOf returns the socket given to usePresence, or the enclosing KarlProvider's
 * (given undefined), which it needs then.
 */
function useSocketOf(given: KarlSocket | null | undefined): KarlSocket | null {
  if (given !== undefined) return given;
  try {
    return useKarlSocket();
  } catch {
    throw new Error("karl: usePresence(kind, params) needs a <KarlProvider> above it, or options.socket");
  }
}
