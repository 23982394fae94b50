// The presence of typed rooms: the reducer (presence.ts) and usePresence with the fake
// socket, then with two real sockets against karl-server.

import { act, renderHook, waitFor } from "@testing-library/react";
import { StrictMode, type ReactNode } from "react";
import { describe, expect, inject, test, vi } from "vitest";

import {
  applyPresenceDiff,
  applyPresenceState,
  createApi,
  createPresenceList,
  isRoomEvent,
  KarlProvider,
  rooms,
  usePresence,
  type ChatMember,
  type PresenceList,
  type PresenceMember,
  type PresenceParams,
} from "../src/react";
import { createFakeSocket, type FakeSocket } from "../src/testing";
import { connect, uniqueName } from "./support/helpers";

const ada: ChatMember = { id: "a", username: "ada" };
const bob: ChatMember = { id: "b", username: "bob" };
const cy: ChatMember = { id: "c", username: "cy" };

const names = (p: { readonly members: readonly ChatMember[] }) => p.members.map((m) => m.username);

describe("the rooms descriptor", () => {
  test("names the presence events and the parameters of each kind", () => {
    expect(rooms.chat).toEqual({ state: "chat-presence", diff: "chat-presence-diff", params: ["room"] });
    // The types follow the schema.
    const params: PresenceParams<"chat"> = { room: "lobby" };
    const member: PresenceMember<"chat"> = { id: "x", username: "ada" };
    expect([params.room, member.username]).toEqual(["lobby", "ada"]);
  });
});

describe("the presence reducer", () => {
  const lobby = () => createPresenceList<ChatMember>({ room: "lobby" });

  test("a state replaces the members, diffs then apply leaves and joins by id", () => {
    let p = lobby();
    expect(p).toMatchObject({ ready: false, members: [] });
    p = applyPresenceState(p, { room: "lobby", self: "me", members: [ada, bob] });
    expect(p.ready).toBe(true);
    expect(names(p)).toEqual(["ada", "bob"]);
    p = applyPresenceDiff(p, { room: "lobby", joins: [cy], leaves: [] });
    expect(names(p)).toEqual(["ada", "bob", "cy"]);
    p = applyPresenceDiff(p, { room: "lobby", joins: [], leaves: [ada] });
    expect(names(p)).toEqual(["bob", "cy"]);
    // A later state replaces the list (e.g. after a connection recovery).
    p = applyPresenceState(p, { room: "lobby", self: "me", members: [cy] });
    expect(names(p)).toEqual(["cy"]);
  });

  test("diffs before the first state are kept, and applied in order after it", () => {
    let p = lobby();
    p = applyPresenceDiff(p, { room: "lobby", joins: [cy], leaves: [] });
    p = applyPresenceDiff(p, { room: "lobby", joins: [], leaves: [bob] });
    expect(p).toMatchObject({ ready: false, members: [] });
    expect(p.pending).toHaveLength(2);
    p = applyPresenceState(p, { room: "lobby", self: "me", members: [ada, bob] });
    expect(p).toMatchObject({ ready: true, pending: [] });
    expect(names(p)).toEqual(["ada", "cy"]);
  });

  test("a leave then a join of the same id updates the member in place", () => {
    let p = applyPresenceState(lobby(), { room: "lobby", self: "me", members: [ada, bob] });
    const renamed = { id: "a", username: "ada lovelace" };
    // The server keeps a member's place on a rename (UpdateChat) or a join again: so does the list.
    p = applyPresenceDiff(p, { room: "lobby", joins: [renamed], leaves: [ada] });
    expect(names(p)).toEqual(["ada lovelace", "bob"]);
    // A join of a known id alone replaces it where it is.
    p = applyPresenceDiff(p, { room: "lobby", joins: [{ id: "b", username: "bobby" }], leaves: [] });
    expect(names(p)).toEqual(["ada lovelace", "bobby"]);
    // A leave in one diff and a join in the next: the member comes back last, as a new one.
    p = applyPresenceDiff(p, { room: "lobby", joins: [], leaves: [renamed] });
    p = applyPresenceDiff(p, { room: "lobby", joins: [renamed], leaves: [] });
    expect(names(p)).toEqual(["bobby", "ada lovelace"]);
  });

  test("a leave of an unknown id is ignored, and an unchanged list is the same object", () => {
    const p = applyPresenceState(lobby(), { room: "lobby", self: "me", members: [ada] });
    const q = applyPresenceDiff(p, { room: "lobby", joins: [], leaves: [cy] });
    expect(q).toBe(p);
    expect(applyPresenceDiff(p, { room: "lobby", joins: [ada], leaves: [] })).toBe(p);
  });

  test("events of another room are ignored", () => {
    let p = lobby();
    expect(applyPresenceState(p, { room: "kitchen", self: "me", members: [ada] })).toBe(p);
    expect(applyPresenceDiff(p, { room: "kitchen", joins: [bob], leaves: [] })).toBe(p);
    p = applyPresenceState(p, { room: "lobby", self: "me", members: [ada] });
    expect(applyPresenceDiff(p, { room: "kitchen", joins: [bob], leaves: [ada] })).toBe(p);
    expect(isRoomEvent({ room: "lobby" }, { room: "lobby", self: "me", members: [] })).toBe(true);
    expect(isRoomEvent({ game: "go", table: 1 }, { game: "go", table: 2 })).toBe(false);
    expect(isRoomEvent({ game: "go", table: 1 }, { game: "go", table: 1, joins: [] })).toBe(true);
  });

  test("a state listing an id twice keeps one member", () => {
    const p: PresenceList<ChatMember> = applyPresenceState(lobby(), { room: "lobby", self: "me", members: [ada, bob, { id: "a", username: "ada2" }] });
    expect(names(p)).toEqual(["ada2", "bob"]);
  });
});

describe("usePresence with the fake socket", () => {
  const wrapper =
    (fake: FakeSocket) =>
    ({ children }: { children: ReactNode }) => (
      <StrictMode>
        <KarlProvider socket={fake.socket}>{children}</KarlProvider>
      </StrictMode>
    );
  const listeners = (fake: FakeSocket) => [fake.listenerCount("chat-presence"), fake.listenerCount("chat-presence-diff")];

  test("members follow the state and the diffs; diffs before the state wait for it", () => {
    const fake = createFakeSocket();
    const { result } = renderHook(() => usePresence("chat", { room: "lobby" }), { wrapper: wrapper(fake) });
    expect(result.current).toEqual({ members: [], ready: false, self: undefined });
    act(() => fake.receive("chat-presence-diff", { room: "lobby", joins: [cy], leaves: [] }));
    expect(result.current.ready).toBe(false);
    act(() => fake.receive("chat-presence", { room: "lobby", self: bob.id, members: [ada, bob] }));
    expect(result.current.ready).toBe(true);
    expect(result.current.self).toBe(bob.id);
    expect(names(result.current)).toEqual(["ada", "bob", "cy"]);
    act(() => fake.receive("chat-presence-diff", { room: "lobby", joins: [], leaves: [bob] }));
    expect(names(result.current)).toEqual(["ada", "cy"]);
    // Another room's events change nothing.
    const before = result.current;
    act(() => fake.receive("chat-presence-diff", { room: "kitchen", joins: [bob], leaves: [ada] }));
    act(() => fake.receive("chat-presence", { room: "kitchen", self: "me", members: [] }));
    expect(result.current).toBe(before);
  });

  test("new params start over, and follow the new room only", () => {
    const fake = createFakeSocket();
    const { result, rerender } = renderHook(({ room }) => usePresence("chat", { room }), {
      wrapper: wrapper(fake),
      initialProps: { room: "lobby" },
    });
    act(() => fake.receive("chat-presence", { room: "lobby", self: "me", members: [ada] }));
    expect(names(result.current)).toEqual(["ada"]);
    rerender({ room: "kitchen" });
    expect(result.current).toEqual({ members: [], ready: false });
    act(() => fake.receive("chat-presence-diff", { room: "lobby", joins: [bob], leaves: [] }));
    expect(result.current.ready).toBe(false);
    act(() => fake.receive("chat-presence", { room: "kitchen", self: "me", members: [cy] }));
    expect(names(result.current)).toEqual(["cy"]);
    // The same params again (a new object): nothing is reset.
    rerender({ room: "kitchen" });
    expect(names(result.current)).toEqual(["cy"]);
    expect(listeners(fake)).toEqual([1, 1]);
  });

  test("unmount removes exactly its listeners", () => {
    const fake = createFakeSocket();
    const other = renderHook(() => usePresence("chat", { room: "kitchen" }), { wrapper: wrapper(fake) });
    expect(listeners(fake)).toEqual([1, 1]);
    const { unmount } = renderHook(() => usePresence("chat", { room: "lobby" }), { wrapper: wrapper(fake) });
    expect(listeners(fake)).toEqual([2, 2]);
    unmount();
    expect(listeners(fake)).toEqual([1, 1]);
    other.unmount();
    expect(listeners(fake)).toEqual([0, 0]);
  });

  test("takes a socket of its own (null until it exists), and drops invalid payloads to onInvalid", () => {
    const fake = createFakeSocket();
    const onInvalid = vi.fn();
    const { result, rerender } = renderHook(
      ({ socket }) => usePresence("chat", { room: "lobby" }, { socket, onInvalid }),
      { initialProps: { socket: null as FakeSocket["socket"] | null } },
    );
    expect(listeners(fake)).toEqual([0, 0]);
    rerender({ socket: fake.socket });
    expect(listeners(fake)).toEqual([1, 1]);
    act(() => fake.receiveRaw("chat-presence", { room: "lobby", self: "me", members: [{ id: 1 }] }));
    expect(onInvalid).toHaveBeenCalledTimes(1);
    expect(result.current.ready).toBe(false);
    act(() => fake.receive("chat-presence", { room: "lobby", self: "me", members: [ada] }));
    expect(names(result.current)).toEqual(["ada"]);
  });

  test("another socket starts over, and the old one's listeners are removed", () => {
    const [a, b] = [createFakeSocket(), createFakeSocket()];
    const { result, rerender } = renderHook(({ socket }) => usePresence("chat", { room: "lobby" }, { socket }), {
      initialProps: { socket: a.socket },
    });
    act(() => a.receive("chat-presence", { room: "lobby", self: "me", members: [ada] }));
    expect(names(result.current)).toEqual(["ada"]);
    rerender({ socket: b.socket });
    expect(result.current).toEqual({ members: [], ready: false });
    expect([listeners(a), listeners(b)]).toEqual([
      [0, 0],
      [1, 1],
    ]);
    act(() => a.receive("chat-presence", { room: "lobby", self: "me", members: [ada, bob] }));
    expect(result.current.ready).toBe(false);
    act(() => b.receive("chat-presence", { room: "lobby", self: "me", members: [bob] }));
    expect(names(result.current)).toEqual(["bob"]);
  });

  test("without a provider or a socket it says what it needs", () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    expect(() => renderHook(() => usePresence("chat", { room: "lobby" }))).toThrow(/usePresence.*KarlProvider.*options\.socket/);
    vi.mocked(console.error).mockRestore();
  });
});

describe("usePresence against karl-server", () => {
  test("two sockets in a room see each other; a disconnect is a leave at once", async () => {
    const room = `room-${uniqueName()}`;
    const [s1, s2] = await Promise.all([connect(inject("karlServerUrl")), connect(inject("karlServerUrl"))]);
    const [api1, api2] = [createApi(s1), createApi(s2)];
    const [u1, u2] = [uniqueName(), uniqueName()];
    await api1.setUsername({ username: u1 });
    await api2.setUsername({ username: u2 });
    const p1 = renderHook(() => usePresence("chat", { room }, { socket: s1 }));
    const p2 = renderHook(() => usePresence("chat", { room }, { socket: s2 }));
    await api1.joinRoom({ room });
    await waitFor(() => expect(names(p1.result.current)).toEqual([u1]));
    await api2.joinRoom({ room });
    await waitFor(() => expect(names(p1.result.current)).toEqual([u1, u2]));
    await waitFor(() => expect(names(p2.result.current)).toEqual([u1, u2]));
    // Each socket is one member, with an id of its own.
    expect(new Set(p2.result.current.members.map((m) => m.id)).size).toBe(2);

    // A rename shows on the other page in the member's place (a leave and a join of its id).
    const renamed = uniqueName();
    await api1.setUsername({ username: renamed });
    await waitFor(() => expect(names(p2.result.current)).toEqual([renamed, u2]));
    await waitFor(() => expect(names(p1.result.current)).toEqual([renamed, u2]));

    s2.disconnect();
    await waitFor(() => expect(names(p1.result.current)).toEqual([renamed]));
    await api1.leaveRoom({ room });
    p1.unmount();
    p2.unmount();
    s1.disconnect();
  });
});
