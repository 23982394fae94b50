// Two karl-server processes on one PostgreSQL database and one Redis, with the
// stock npm socket.io-client on both: what a load balancer in front of them needs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect, call, next, nothing, PNG_DATA_URL } from "./helpers.mjs";
import { startDatabases, startNode } from "./cluster.mjs";

let dbs, a, b;
before(async () => {
  dbs = await startDatabases();
  [a, b] = [await startNode(dbs), await startNode(dbs)]; // one after the other: the first migrates
});
after(async () => {
  await Promise.all([a, b].filter(Boolean).map((n) => n.close()));
  await dbs?.close();
});

const sockets = [];
async function user(node, username) {
  const s = await connect(node.url);
  sockets.push(s);
  if (username) assert.deepEqual(await call(s, "set-username", { username }), { ok: true });
  return s;
}
function closeAll() { sockets.splice(0).forEach((s) => s.close()); }

/** The args of every `event` s received, once nothing more came for 300 ms. */
async function all(s, event) {
  await new Promise((r) => setTimeout(r, 300));
  return s.received.filter((r) => r.event === event).map((r) => r.args[0]);
}
function forget(...ss) { ss.forEach((s) => { s.received.length = 0; }); }

test("a username saved on node A is announced to a client on node B, once", async () => {
  const onB = await user(b);
  const onA = await user(a);
  await call(onA, "set-username", { username: "Ann" });
  assert.deepEqual(await all(onB, "new-user-connected"), [{ username: "Ann" }]);
  assert.deepEqual(await all(onA, "new-user-connected"), [{ username: "Ann" }]);
  closeAll();
});

test("a room with members on both nodes gets every message once, each sender's in order", async () => {
  const ann = await user(a, "Ann"), ben = await user(b, "Ben"), cat = await user(b, "Cat");
  const out = await user(a, "Out"); // on A, not in the room
  for (const s of [ann, ben, cat]) assert.deepEqual(await call(s, "join-room", { room: "both" }), { ok: true });
  forget(ann, ben, cat, out);

  const sent = [];
  for (let i = 0; i < 10; i++) {
    const [from, name] = i % 2 ? [ben, "Ben"] : [ann, "Ann"]; // from both nodes, alternating
    const text = `m${i} ✓`;
    assert.deepEqual(await call(from, "send-message", { room: "both", text }), { ok: true });
    sent.push({ username: name, text });
  }
  // Messages from different nodes may interleave differently for each member: Ann's
  // reach Cat through Redis, Ben's directly from Cat's own node.
  const bySender = (msgs) => msgs.reduce((by, m) => ({ ...by, [m.username]: [...(by[m.username] ?? []), m] }), {});
  for (const s of [ann, ben, cat]) {
    const got = (await all(s, "new-message")).map(({ username, text }) => ({ username, text }));
    assert.deepEqual(bySender(got), bySender(sent), "each message exactly once, each sender's in the order sent");
  }
  assert.deepEqual(await all(out, "new-message"), []);

  assert.deepEqual(await call(cat, "typing", { room: "both" }), { ok: true });
  assert.deepEqual(await next(ann, "user-typing"), { room: "both", username: "Cat" });
  assert.deepEqual(await next(ben, "user-typing"), { room: "both", username: "Cat" });
  await nothing(cat, "user-typing");
  await nothing(out, "user-typing", 0);
  closeAll();
});

test("a token issued by node A restores the user, photo included, on node B", async () => {
  const onA = await user(a);
  const saved = next(onA, "username-saved");
  await call(onA, "set-username", { username: "Alice" });
  const { token } = await saved;
  assert.deepEqual(await call(onA, "upload-profile-image", { imageBase64: PNG_DATA_URL }), { ok: true });
  onA.close();

  const onB = await connect(b.url, { token });
  sockets.push(onB);
  assert.deepEqual(await next(onB, "reconnected"), { username: "Alice", profileImage: PNG_DATA_URL });
  assert.deepEqual(await call(onB, "get-profile"), { ok: true, data: { username: "Alice", profileImage: PNG_DATA_URL } });
  closeAll();
});

test("HTTP long-polling needs sticky sessions, WebSocket does not", async () => {
  // An Engine.IO polling session lives on the node that opened it: the next
  // request of the same session, sent to the other node, is refused.
  const open = await fetch(`${a.url}/socket.io/?EIO=4&transport=polling`);
  assert.equal(open.status, 200);
  const { sid } = JSON.parse((await open.text()).slice(1)); // "0{...}": the OPEN packet
  const onA = await fetch(`${a.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: "POST", body: "40" });
  assert.equal(onA.status, 200, "the same node knows the session");
  const onB = await fetch(`${b.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`);
  assert.equal(onB.status, 400, "the other node does not");

  // A WebSocket is one connection to one node from handshake to close.
  const ws = await user(b, "Walt");
  assert.deepEqual(await call(ws, "get-profile"), { ok: true, data: { username: "Walt" } });
  closeAll();
});

test("node A killed with SIGKILL mid-writes: node B restores every acknowledged write", async (t) => {
  const watcher = await user(b); // on B: hears A's broadcasts until A dies
  const writers = await Promise.all(Array.from({ length: 4 }, () => user(a)));
  const acked = new Map(); // token -> latest acknowledged username
  let writes = 0, stop = false;
  const loops = writers.map(async (s, w) => {
    for (let i = 0; !stop; i++) {
      const username = `w${w}n${i}`;
      const saved = next(s, "username-saved", 3000).catch(() => null);
      let res;
      try { res = await call(s, "set-username", { username }); } catch { return; } // killed mid-call
      if (!res.ok) throw new Error(JSON.stringify(res));
      const got = await saved;
      if (!got) return;
      acked.set(got.token, username);
      writes++;
    }
  });
  // Every writer under way, then the kill at a random point of their writes.
  for (const deadline = Date.now() + 5000; acked.size < writers.length && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, Math.random() * 300));
  await a.stop("SIGKILL");
  stop = true;
  await Promise.all(loops);
  assert.equal(acked.size, writers.length, "every writer had a write acknowledged before the kill");
  t.diagnostic(`${writes} writes acknowledged by node A before its SIGKILL`);
  assert.ok((await all(watcher, "new-user-connected")).length > 0, "B heard A's users while A ran");

  for (const [token, latest] of acked) {
    const s = await connect(b.url, { token });
    sockets.push(s);
    const { username } = await next(s, "reconnected");
    // Renames keep the token: B holds the latest acknowledged name, or the next
    // one if its write committed just before the kill, unacknowledged.
    const [, prefix, n] = latest.match(/^(.*n)(\d+)$/);
    assert.ok(username === latest || username === `${prefix}${Number(n) + 1}`,
      `restored ${username}, latest acknowledged ${latest}`);
  }
  await a.restart(); // A comes back on the same database
  const back = await user(a, "Back");
  assert.deepEqual(await call(back, "get-profile"), { ok: true, data: { username: "Back" } });
  closeAll();
});

test("Redis restarted mid-run: both nodes keep serving, then broadcast across again", async (t) => {
  const ann = await user(a, "Ann"), ben = await user(b, "Ben");
  await dbs.killRedis();
  // Without Redis each node serves its own sockets; broadcasts stay on their node.
  assert.deepEqual(await call(ann, "set-username", { username: "Ann2" }), { ok: true });
  assert.deepEqual(await call(ben, "get-profile"), { ok: true, data: { username: "Ben" } });
  for (const n of [a, b]) assert.equal((await fetch(`${n.url}/healthz`)).status, 200);
  const late = await user(b, "Late"); // new connections too
  await dbs.restartRedis();

  const crossed = async (from, to, name) => {
    const deadline = Date.now() + 10000;
    for (let i = 0; Date.now() < deadline; i++) {
      forget(to);
      await call(from, "set-username", { username: `${name}${i}` });
      if ((await all(to, "new-user-connected")).some((u) => u.username === `${name}${i}`)) return Date.now();
    }
    throw new Error(`no broadcast from ${name}'s node reached the other within 10 s of Redis restarting`);
  };
  const restarted = Date.now();
  await crossed(ann, ben, "Ann");
  await crossed(late, ann, "Late");
  t.diagnostic(`broadcasts crossed both ways again ${Date.now() - restarted} ms after Redis restarted`);
  for (const n of [a, b]) assert.match(n.output(), /Redis adapter reconnected/);
  closeAll();
});
