// The seed's patterns 2 (rooms) and 4 (broadcast except the sender).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, connect, call, next, nothing } from "./helpers.mjs";

let server;
before(async () => { server = await startServer(); });
after(async () => { await server.close(); });

async function user(name) {
  const s = await connect(server.url);
  assert.deepEqual(await call(s, "set-username", { username: name }), { ok: true });
  return s;
}

test("messages reach the room's members only, typing reaches the others", async () => {
  const [ann, ben, cat] = await Promise.all([user("Ann"), user("Ben"), user("Cat")]);
  assert.deepEqual(await call(ann, "join-room", { room: "general" }), { ok: true });
  assert.deepEqual(await call(ben, "join-room", { room: "general" }), { ok: true });

  const before = Date.now();
  assert.deepEqual(await call(ann, "send-message", { room: "general", text: "hello" }), { ok: true });
  for (const s of [ann, ben]) {
    const m = await next(s, "new-message");
    assert.equal(m.room, "general");
    assert.equal(m.username, "Ann");
    assert.equal(m.text, "hello");
    assert.ok(m.sentAt >= before - 1000 && m.sentAt <= Date.now() + 1000);
  }
  await nothing(cat, "new-message");

  assert.deepEqual(await call(ben, "typing", { room: "general" }), { ok: true });
  assert.deepEqual(await next(ann, "user-typing"), { room: "general", username: "Ben" });
  await nothing(ben, "user-typing");
  await nothing(cat, "user-typing", 0);

  assert.deepEqual(await call(cat, "send-message", { room: "general", text: "let me in" }),
    { ok: false, error: { code: "not-in-room", message: "Join the room first." } });
  assert.equal((await call(cat, "typing", { room: "general" })).error.code, "not-in-room");
  assert.equal((await call(cat, "leave-room", { room: "general" })).error.code, "not-in-room");

  assert.deepEqual(await call(ben, "leave-room", { room: "general" }), { ok: true });
  await call(ann, "send-message", { room: "general", text: "bye" });
  assert.equal((await next(ann, "new-message")).text, "bye");
  await nothing(ben, "new-message");
  for (const s of [ann, ben, cat]) s.disconnect();
});

test("rooms need a session", async () => {
  const s = await connect(server.url);
  assert.equal((await call(s, "join-room", { room: "general" })).error.code, "no-session");
  assert.equal((await call(s, "send-message", { room: "general", text: "x" })).error.code, "no-session");
  s.disconnect();
});
