// Idempotent events with the stock socket.io-client: the request metadata object
// after the payload carries the key; a retry on a new connection, or after a
// restart of the server on the same SQLite file, gets the first answer.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, connect, call, next, nothing } from "./helpers.mjs";

let server;
before(async () => { server = await startServer(); });
after(async () => { await server.close(); });

test("set-username whose ack and username-saved were lost: the retry gets the same token, one session", async () => {
  const key = { idempotencyKey: "interop-" + Math.random().toString(36).slice(2) };
  const lost = await connect(server.url);
  assert.deepEqual(await call(lost, "set-username", { username: "Lea" }, key), { ok: true });
  const first = await next(lost, "username-saved");
  lost.disconnect(); // as if both had been lost with the connection

  const retry = await connect(server.url);
  assert.deepEqual(await call(retry, "set-username", { username: "Lea" }, key), { ok: true });
  assert.deepEqual(await next(retry, "username-saved"), first);

  await server.restart();
  const afterRestart = await connect(server.url);
  assert.deepEqual(await call(afterRestart, "set-username", { username: "Lea" }, key), { ok: true });
  assert.deepEqual(await next(afterRestart, "username-saved"), first, "the record is in the database");

  const back = await connect(server.url, { token: first.token });
  assert.equal((await next(back, "reconnected")).username, "Lea");
  for (const s of [retry, afterRestart, back]) s.disconnect();
});

test("send-message retried with its key reaches each member once; another payload is a conflict", async () => {
  const sender = await connect(server.url);
  const member = await connect(server.url);
  for (const [s, name] of [[sender, "Sam"], [member, "Mia"]]) {
    assert.deepEqual(await call(s, "set-username", { username: name }), { ok: true });
    assert.deepEqual(await call(s, "join-room", { room: "retries" }), { ok: true });
  }
  const key = { idempotencyKey: "msg-" + Math.random().toString(36).slice(2) };
  const msg = { room: "retries", text: "only once" };
  assert.deepEqual(await call(sender, "send-message", msg, key), { ok: true });
  assert.deepEqual(await call(sender, "send-message", msg, key), { ok: true });
  assert.equal((await next(member, "new-message")).text, "only once");
  await nothing(member, "new-message", 400);
  const conflict = await call(sender, "send-message", { ...msg, text: "something else" }, key);
  assert.equal(conflict.error.code, "idempotency-conflict");
  for (const s of [sender, member]) s.disconnect();
});

test("a proxy drops the ack of an idempotent send-message after the server committed: the retry on a new connection gets the same answer, one message per member", async () => {
  const { startProxy } = await import("./proxy.mjs");
  const proxy = await startProxy(server.url);
  try {
    const sender = await connect(proxy.url);
    const member = await connect(server.url);
    for (const [s, name] of [[sender, "Pia"], [member, "Max"]]) {
      assert.deepEqual(await call(s, "set-username", { username: name }), { ok: true });
      assert.deepEqual(await call(s, "join-room", { room: "dropped" }), { ok: true });
    }
    const key = { idempotencyKey: "dropped-" + Math.random().toString(36).slice(2) };
    const msg = { room: "dropped", text: "after a lost ack" };
    const dropped = proxy.dropNextFrameMatching((text) => /^43\d/.test(text));
    await assert.rejects(sender.timeout(1000).emitWithAck("send-message", msg, key), "the ack never arrives");
    assert.match(await dropped, /^43\d+\[\{"ok":true\}\]$/, "the server had answered ok: it committed");
    proxy.cut(); // the client gives up on this connection
    sender.disconnect();
    proxy.resume();

    const retry = await connect(proxy.url);
    assert.deepEqual(await call(retry, "send-message", msg, key), { ok: true });
    assert.equal((await next(member, "new-message")).text, "after a lost ack");
    await nothing(member, "new-message", 400);
    for (const s of [retry, member]) s.disconnect();
  } finally {
    await proxy.close();
  }
});
