// Typed rooms with presence (schema: rooms.chat), with the stock npm client:
// chat-presence to a socket that joins, chat-presence-diff to the others; on
// one node, then on two nodes sharing Redis (a join seen across, a node killed
// with SIGKILL, Redis restarted).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, connect, call, next } from "./helpers.mjs";
import { startProxy } from "./proxy.mjs";
import { startDatabases, startNode } from "./cluster.mjs";

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

async function user(url, username) {
  const s = await connect(url);
  cleanups.push(async () => s.close());
  assert.deepEqual(await call(s, "set-username", { username }), { ok: true });
  return s;
}

const names = (members) => members.map((m) => m.username);

/** Waits for the chat-presence-diff of room on s that satisfies pred. */
async function diffWhere(s, room, pred, timeout = 5000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no matching chat-presence-diff for ${room} within ${timeout} ms`);
    const d = await next(s, "chat-presence-diff", left);
    if (d.room === room && pred(d)) return d;
  }
}

test("two users join lobby: the second gets both, the first the join; a silent drop is a leave within the ping timeout", async (t) => {
  // A short ping interval so that the drop is noticed quickly; a timeout long enough
  // that Ann, who stays, answers every ping on a loaded machine (with 300 ms she was
  // sometimes dropped too, 1 run in 5 under load, and never saw Ben leave).
  const server = await startServer({ args: ["--ping-interval", "300ms", "--ping-timeout", "1500ms", "--recovery-window", "0"] });
  cleanups.push(() => server.close());
  const proxy = await startProxy(server.url);
  cleanups.push(() => proxy.close());
  const ann = await user(server.url, "Ann");
  const ben = await user(proxy.url, "Ben"); // through the proxy, to vanish without a goodbye

  assert.deepEqual(await call(ann, "join-room", { room: "lobby" }), { ok: true });
  const first = await next(ann, "chat-presence");
  assert.equal(first.room, "lobby");
  assert.deepEqual(names(first.members), ["Ann"]);
  const annID = first.members[0].id;
  assert.match(annID, /^[A-Za-z0-9_-]{16}$/);

  assert.deepEqual(await call(ben, "join-room", { room: "lobby" }), { ok: true });
  const state = await next(ben, "chat-presence");
  assert.deepEqual(state.members.map((m) => [m.id === annID, m.username]), [[true, "Ann"], [false, "Ben"]]);
  const benID = state.members[1].id;
  assert.equal(state.self, benID, "self names the receiver's own entry");
  const joined = await next(ann, "chat-presence-diff");
  assert.deepEqual(joined, { room: "lobby", joins: [{ id: benID, username: "Ben" }], leaves: [] });

  const start = Date.now();
  proxy.pause(); // no FIN, nothing forwarded: the server only notices through its pings
  const left = await next(ann, "chat-presence-diff", 8000);
  const took = Date.now() - start;
  assert.deepEqual(left, { room: "lobby", joins: [], leaves: [{ id: benID, username: "Ben" }] });
  t.diagnostic(`leave seen ${took} ms after the link went silent (ping interval 300 ms + timeout 1500 ms)`);
  assert.ok(took < 4000, `leave after ${took} ms`);
});

test("a rename shows in the rooms: the others get the old entry as a leave, the new as a join, same id", async () => {
  const server = await startServer();
  cleanups.push(() => server.close());
  const [ann, ben] = [await user(server.url, "Ann"), await user(server.url, "Ben")];
  for (const s of [ann, ben]) assert.deepEqual(await call(s, "join-room", { room: "lobby" }), { ok: true });
  const { members } = await next(ben, "chat-presence");
  const benID = members[1].id;
  await next(ann, "chat-presence-diff");
  assert.deepEqual(await call(ben, "set-username", { username: "Benjamin" }), { ok: true });
  assert.deepEqual(await diffWhere(ann, "lobby", () => true),
    { room: "lobby", joins: [{ id: benID, username: "Benjamin" }], leaves: [{ id: benID, username: "Ben" }] });
  const cat = await user(server.url, "Cat");
  assert.deepEqual(await call(cat, "join-room", { room: "lobby" }), { ok: true });
  assert.deepEqual(names((await next(cat, "chat-presence")).members), ["Ann", "Benjamin", "Cat"]);
});

test("a room named like another socket's id reaches its members only", async () => {
  const server = await startServer();
  cleanups.push(() => server.close());
  const [ann, ben] = [await user(server.url, "Ann"), await user(server.url, "Ben")];
  const room = ann.id; // Socket.IO puts every socket in a room named by its id
  assert.deepEqual(await call(ben, "join-room", { room }), { ok: true });
  assert.deepEqual(await call(ben, "send-message", { room, text: "only for the room" }), { ok: true });
  assert.equal((await next(ben, "new-message")).text, "only for the room");
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(ann.received.filter((r) => r.event === "new-message"), [], "the socket named by the room got the message");
});

test("two nodes on Redis: a join on A is seen on B; A killed with SIGKILL leaves B's presence; Redis restarted keeps it", async (t) => {
  const dbs = await startDatabases();
  cleanups.push(() => dbs.close());
  const beat = ["--presence-heartbeat", "250ms"]; // dead after 750 ms, swept within 1 s
  const a = await startNode(dbs, { args: beat });
  cleanups.push(() => a.close());
  const b = await startNode(dbs, { args: beat });
  cleanups.push(() => b.close());

  const bob = await user(b.url, "Bob");
  assert.deepEqual(await call(bob, "join-room", { room: "lobby" }), { ok: true });
  assert.deepEqual(names((await next(bob, "chat-presence")).members), ["Bob"]);
  const amy = await user(a.url, "Amy");
  const al = await user(a.url, "Al");
  for (const s of [amy, al]) assert.deepEqual(await call(s, "join-room", { room: "lobby" }), { ok: true });
  assert.deepEqual(names((await next(al, "chat-presence")).members), ["Bob", "Amy", "Al"]);
  await diffWhere(bob, "lobby", (d) => d.joins.some((m) => m.username === "Amy"));
  await diffWhere(bob, "lobby", (d) => d.joins.some((m) => m.username === "Al"));

  await dbs.killRedis();
  await dbs.restartRedis(); // no persistence: the members are gone from Redis until the next beats
  await new Promise((r) => setTimeout(r, 1500));
  const carl = await user(b.url, "Carl");
  assert.deepEqual(await call(carl, "join-room", { room: "lobby" }), { ok: true });
  const afterRestart = await next(carl, "chat-presence");
  assert.deepEqual(names(afterRestart.members).sort(), ["Al", "Amy", "Bob", "Carl"], "every node wrote its members again");

  const start = Date.now();
  await a.stop("SIGKILL");
  const gone = new Set();
  while (gone.size < 2) {
    const d = await diffWhere(bob, "lobby", (d) => d.leaves.length > 0, 6000);
    d.leaves.forEach((m) => gone.add(m.username));
  }
  const took = Date.now() - start;
  assert.deepEqual([...gone].sort(), ["Al", "Amy"]);
  t.diagnostic(`node A's members left B's presence ${took} ms after its SIGKILL (heartbeat 250 ms: stated bound 4 beats = 1 s, plus the sweep)`);
  assert.ok(took < 4000, `after ${took} ms`);
  const dave = await user(b.url, "Dave");
  assert.deepEqual(await call(dave, "join-room", { room: "lobby" }), { ok: true });
  assert.deepEqual(names((await next(dave, "chat-presence")).members), ["Bob", "Carl", "Dave"]);
});
