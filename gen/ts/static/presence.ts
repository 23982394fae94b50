// The presence of typed rooms: who is in one room, followed from the server's two
// presence events of its kind (see rooms in rooms.ts). A pure reducer, without React:
// usePresence (usepresence.ts) keeps one in a component, and any store can keep one too.
//
// The server's contract:
// - the state event (e.g. "chat-presence") gives every member of the room, the receiver
//   included, in the order they joined, and self, the id of the receiver's own entry; it is sent to a socket when it joins, and again
//   after a connection recovery. A state replaces the member list.
// - the diff event (e.g. "chat-presence-diff") gives who joined and who left, to the
//   other members, on join, leave and disconnect. Apply its leaves, then its joins, by
//   member id: a join of a known id replaces that member (in place), a leave of an
//   unknown id is ignored. A leave and a join of one id in one diff (joining again, or
//   showing something new: karl.yaml's rename) keep the member's place, as the server's
//   states do.
// - diffs may arrive before the first state of a room: keep them, and apply them, in
//   order, after that state.
// - a member is one socket in one room: the same user in two tabs is two members.
// Both payloads carry the room's parameters (e.g. {room: "lobby"}): an event whose
// parameters differ from those followed is another room's, and is ignored.

/** PresenceMemberLike is what the reducer needs of a member: its id, one per socket and room. */
export interface PresenceMemberLike {
  readonly id: string;
}

/** PresenceStateEvent is the payload of a state event, without the room's parameters. */
export interface PresenceStateEvent<M extends PresenceMemberLike> {
  readonly members: readonly M[];
  /** The id of the receiving socket's own entry in members. */
  readonly self: string;
}

/** PresenceDiffEvent is the payload of a diff event, without the room's parameters. */
export interface PresenceDiffEvent<M extends PresenceMemberLike> {
  readonly joins: readonly M[];
  readonly leaves: readonly M[];
}

/** RoomParamValues are the parameters of one room, e.g. {room: "lobby"}. */
export type RoomParamValues = Readonly<Record<string, unknown>>;

/** PresenceList is the presence of one room as a client follows it. */
export interface PresenceList<M extends PresenceMemberLike> {
  /** The parameters of the room followed; events whose parameters differ are ignored. */
  readonly room: RoomParamValues;
  /** The members, in the order they joined; empty until the first state. */
  readonly members: readonly M[];
  /** Whether a state arrived: members is the room's, not a guess. */
  readonly ready: boolean;
  /** The id of this socket's own entry, from the last state; undefined before. */
  readonly self: string | undefined;
  /** The diffs that arrived before the first state, in order; applied after it. */
  readonly pending: readonly PresenceDiffEvent<M>[];
}

/** createPresenceList returns the presence of the room named by room, before its first state. */
export function createPresenceList<M extends PresenceMemberLike>(room: RoomParamValues): PresenceList<M> {
  return { room, members: [], ready: false, self: undefined, pending: [] };
}

/**
 * isRoomEvent reports whether a presence payload is about the room named by room: it
 * carries the same value for each of room's parameters.
 */
export function isRoomEvent(room: RoomParamValues, payload: object): boolean {
  const fields = payload as Readonly<Record<string, unknown>>;
  return Object.keys(room).every((name) => Object.is(fields[name], room[name]));
}

/**
 * applyPresenceState returns presence after a state event: its members replace the
 * list, then the diffs kept before the first state are applied in order. A state of
 * another room returns presence itself.
 */
export function applyPresenceState<M extends PresenceMemberLike, S extends PresenceStateEvent<M>>(
  presence: PresenceList<M>,
  state: S,
): PresenceList<M> {
  if (!isRoomEvent(presence.room, state)) return presence;
  let members: readonly M[] = dedupe(state.members);
  for (const diff of presence.pending) members = mergeDiff(members, diff);
  return { room: presence.room, members, ready: true, self: state.self, pending: [] };
}

/**
 * applyPresenceDiff returns presence after a diff event: leaves then joins by member
 * id once a state arrived, kept for later before. A diff of another room returns
 * presence itself.
 */
export function applyPresenceDiff<M extends PresenceMemberLike, D extends PresenceDiffEvent<M>>(
  presence: PresenceList<M>,
  diff: D,
): PresenceList<M> {
  if (!isRoomEvent(presence.room, diff)) return presence;
  const kept: PresenceDiffEvent<M> = { joins: diff.joins, leaves: diff.leaves };
  if (!presence.ready) return { ...presence, pending: [...presence.pending, kept] };
  const members = mergeDiff(presence.members, kept);
  return members === presence.members ? presence : { ...presence, members };
}

/**
 * mergeDiff applies a diff to members: its leaves (unknown ids ignored), then its joins
 * (a known id replaced in place, a new one appended). A leave and a join of one id in
 * the same diff (a join again, or a member showing something new) replace the member in
 * its place, where the server keeps it in its states. It returns members itself when
 * nothing changes.
 */
function mergeDiff<M extends PresenceMemberLike>(members: readonly M[], diff: PresenceDiffEvent<M>): readonly M[] {
  if (diff.leaves.length === 0 && diff.joins.length === 0) return members;
  const rejoining = new Set(diff.joins.map((m) => m.id));
  const leaving = new Set(diff.leaves.map((m) => m.id).filter((id) => !rejoining.has(id)));
  let out = leaving.size === 0 ? members.slice() : members.filter((m) => !leaving.has(m.id));
  for (const join of diff.joins) {
    const at = out.findIndex((m) => m.id === join.id);
    if (at >= 0) out[at] = join;
    else out.push(join);
  }
  if (out.length === members.length && out.every((m, i) => m === members[i])) return members;
  return out;
}

/** dedupe keeps the last of members that share an id, in the place of the first. */
function dedupe<M extends PresenceMemberLike>(members: readonly M[]): readonly M[] {
  const seen = new Map<string, number>();
  const out: M[] = [];
  for (const m of members) {
    const at = seen.get(m.id);
    if (at === undefined) {
      seen.set(m.id, out.length);
      out.push(m);
    } else {
      out[at] = m;
    }
  }
  return out;
}
