// Connection-state recovery with the stock npm socket.io-client: a client whose
// connection is cut for 2 s while 20 room messages are sent gets all 20 once it
// is back, in order, once, with socket.recovered, and its session; on one node
// (in-memory session-aware adapter) and across two (Redis streams adapter).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { startServer, connect, call, next } from "./helpers.mjs";
import { startDatabases, startNode } from "./cluster.mjs";
import { startProxy } from "./proxy.mjs";

const sockets = [];
const proxies = [];
after(async () => {
  sockets.splice(0).forEach((s) => s.close());
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

async function user(url, username, opts) {
  const s = await connect(url, undefined, opts);
  sockets.push(s);
  assert.deepEqual(await call(s, "set-username", { username }), { ok: true });
  assert.deepEqual(await call(s, "join-room", { room: "lift" }), { ok: true });
  return s;
}

/** A member reached through a proxy, reconnecting by itself every 100 ms. */
async function memberBehindProxy(url, username) {
  const proxy = await startProxy(url);
  proxies.push(proxy);
  const s = await user(proxy.url, username, {
    reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 100, randomizationFactor: 0,
  });
  return { s, proxy };
}

const texts = (s) => s.received.filter((r) => r.event === "new-message").map((r) => r.args[0].text);
const once = (s, event) => new Promise((ok) => s.once(event, ok));

/**
 * Cuts member's connection, has sender send 20 messages to the room while it
 * is down for `downMs`, lets it back, and returns what it received.
 */
async function cutWhileSending(sender, member, proxy, downMs) {
  member.received.length = 0;
  const dropped = once(member, "disconnect");
  const cutAt = Date.now();
  proxy.cut();
  assert.equal(await dropped, "transport close");
  const sent = [];
  for (let i = 0; i < 20; i++) {
    const text = `message ${i}`;
    assert.deepEqual(await call(sender, "send-message", { room: "lift", text }), { ok: true });
    sent.push(text);
  }
  await new Promise((r) => setTimeout(r, Math.max(0, downMs - (Date.now() - cutAt))));
  const back = once(member, "connect");
  proxy.resume();
  await back;
  return sent;
}

/** Waits until s holds n new-message events, then 300 ms for any extra. */
async function settle(s, n) {
  const deadline = Date.now() + 5000;
  while (texts(s).length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 300));
}

test("one node: a client cut for 2 s gets the 20 messages it missed, in order, once, and keeps its session", async () => {
  const server = await startServer();
  try {
    const sender = await user(server.url, "Sender");
    const { s: member, proxy } = await memberBehindProxy(server.url, "Member");
    const sent = await cutWhileSending(sender, member, proxy, 2000);
    assert.equal(member.recovered, true, "socket.recovered after a 2 s drop");
    await settle(member, 20);
    assert.deepEqual(texts(member), sent);
    // The session came back without a handshake: no token was in the auth,
    // so only the kept socket knows the username.
    assert.deepEqual(await call(member, "get-profile"), { ok: true, data: { username: "Member" } });
    // And it still is in the room, for the messages that follow.
    member.received.length = 0;
    assert.deepEqual(await call(sender, "send-message", { room: "lift", text: "after" }), { ok: true });
    assert.equal((await next(member, "new-message")).text, "after");
  } finally {
    sockets.splice(0).forEach((s) => s.close());
    await server.close();
  }
});

test("one node: back after the window, the client is not recovered and starts a new session", async () => {
  const server = await startServer({ args: ["--recovery-window", "1s"] });
  try {
    const sender = await user(server.url, "Sender");
    const { s: member, proxy } = await memberBehindProxy(server.url, "Member");
    await cutWhileSending(sender, member, proxy, 2500);
    assert.equal(member.recovered, false, "socket.recovered after the window");
    await settle(member, 0);
    assert.deepEqual(texts(member), [], "nothing replayed to a client that was not recovered");
    assert.equal((await call(member, "get-profile")).error.code, "no-session");
  } finally {
    sockets.splice(0).forEach((s) => s.close());
    await server.close();
  }
});

test("--recovery-window 0: no recovery", async () => {
  const server = await startServer({ args: ["--recovery-window", "0"] });
  try {
    const sender = await user(server.url, "Sender");
    const { s: member, proxy } = await memberBehindProxy(server.url, "Member");
    await cutWhileSending(sender, member, proxy, 500);
    assert.ok(!member.recovered, "no session id was offered, so nothing to recover");
    await settle(member, 0);
    assert.deepEqual(texts(member), []);
  } finally {
    sockets.splice(0).forEach((s) => s.close());
    await server.close();
  }
});

test("two nodes: sender on A, the member cut from B for 2 s gets all 20 through the Redis streams adapter", async () => {
  const dbs = await startDatabases();
  const nodes = [];
  try {
    nodes.push(await startNode(dbs), await startNode(dbs)); // one after the other: the first migrates
    const [a, b] = nodes;
    const sender = await user(a.url, "Sender");
    const { s: member, proxy } = await memberBehindProxy(b.url, "Member");
    // The member's first message from A crosses the nodes: the stream is live.
    assert.deepEqual(await call(sender, "send-message", { room: "lift", text: "hello" }), { ok: true });
    assert.equal((await next(member, "new-message")).text, "hello");

    const sent = await cutWhileSending(sender, member, proxy, 2000);
    assert.equal(member.recovered, true, "socket.recovered after a 2 s drop from node B");
    await settle(member, 20);
    assert.deepEqual(texts(member), sent);
    assert.deepEqual(await call(member, "get-profile"), { ok: true, data: { username: "Member" } });
  } finally {
    sockets.splice(0).forEach((s) => s.close());
    await Promise.all(nodes.map((n) => n.close()));
    await dbs.close();
  }
});

test("two nodes: a client that drops from B and comes back through A is recovered there, Connect restoring its session from the token", async () => {
  const dbs = await startDatabases();
  const nodes = [];
  try {
    nodes.push(await startNode(dbs), await startNode(dbs));
    const [a, b] = nodes;
    const sender = await user(a.url, "Sender");
    // The member's proxy points at B first, then at A: a balancer that moved it.
    const toB = await startProxy(b.url);
    proxies.push(toB);
    let token;
    const member = io(toB.url, {
      transports: ["websocket"], forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 100, randomizationFactor: 0,
      auth: (cb) => cb(token ? { token } : {}),
    });
    sockets.push(member);
    member.received = [];
    member.onAny((event, ...args) => member.received.push({ event, args }));
    await once(member, "connect");
    const saved = next(member, "username-saved");
    assert.deepEqual(await call(member, "set-username", { username: "Member" }), { ok: true });
    token = (await saved).token;
    assert.deepEqual(await call(member, "join-room", { room: "lift" }), { ok: true });

    const dropped = once(member, "disconnect");
    toB.cut();
    await dropped;
    member.io.uri = a.url; // reconnect to A
    member.io.opts.hostname = new URL(a.url).hostname;
    member.io.opts.port = new URL(a.url).port;
    member.received.length = 0;
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(await call(sender, "send-message", { room: "lift", text: `message ${i}` }), { ok: true });
    }
    await once(member, "connect");
    assert.equal(member.recovered, true, "recovered on another node");
    await settle(member, 5);
    assert.deepEqual(texts(member), [0, 1, 2, 3, 4].map((i) => `message ${i}`));
    assert.deepEqual(await call(member, "get-profile"), { ok: true, data: { username: "Member" } });
  } finally {
    sockets.splice(0).forEach((s) => s.close());
    await Promise.all(nodes.map((n) => n.close()));
    await dbs.close();
  }
});

test("proxy.mjs drops the one server frame asked for and forwards the rest", async () => {
  const server = await startServer();
  try {
    const proxy = await startProxy(server.url);
    proxies.push(proxy);
    const s = await connect(proxy.url);
    sockets.push(s);
    const dropped = proxy.dropNextFrameMatching((text) => /^43\d+/.test(text)); // the next ack
    await assert.rejects(s.timeout(500).emitWithAck("get-profile"), /timed out/);
    assert.match(await dropped, /^43\d+\[\{"ok":false,"error":\{"code":"no-session"/);
    assert.deepEqual(await call(s, "set-username", { username: "Kept" }), { ok: true }); // the next ack passes
    assert.equal(s.connected, true);
  } finally {
    sockets.splice(0).forEach((s) => s.close());
    await server.close();
  }
});
