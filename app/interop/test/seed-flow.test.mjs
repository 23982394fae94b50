// The seed's whole KARL flow, end to end, with the stock socket.io-client.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, connect, call, next, nothing, PNG_DATA_URL } from "./helpers.mjs";

let server;
before(async () => { server = await startServer(); });
after(async () => { await server.close(); });

test("username, photo, reconnect with the token, restart, still restored", async () => {
  const alice = await connect(server.url);
  const bob = await connect(server.url);

  const before = Date.now();
  assert.deepEqual(await call(alice, "set-username", { username: "  Alice  " }), { ok: true });
  const saved = await next(alice, "username-saved");
  assert.equal(saved.username, "Alice", "the username is trimmed");
  assert.match(saved.token, /^[A-Za-z0-9_-]{43}$/);
  const week = 7 * 24 * 3600 * 1000;
  assert.ok(saved.expiresAt >= before + week - 1000 && saved.expiresAt <= Date.now() + week, `expiresAt ${saved.expiresAt}`);
  assert.deepEqual(await next(bob, "new-user-connected"), { username: "Alice" }, "everyone hears of Alice");
  assert.deepEqual(await next(alice, "new-user-connected"), { username: "Alice" }, "io.emit includes the sender");

  assert.deepEqual(await call(alice, "upload-profile-image", { imageBase64: PNG_DATA_URL }), { ok: true });
  assert.deepEqual(await next(alice, "profile-image-saved"), {});
  assert.deepEqual(await call(alice, "get-profile"), { ok: true, data: { username: "Alice", profileImage: PNG_DATA_URL } });
  alice.disconnect();

  // Days later (here: at once), the stored token restores both.
  const back = await connect(server.url, { token: saved.token });
  assert.deepEqual(await next(back, "reconnected"), { username: "Alice", profileImage: PNG_DATA_URL });
  back.disconnect();

  // A server restart loses nothing.
  await server.restart();
  const afterRestart = await connect(server.url, { token: saved.token });
  assert.deepEqual(await next(afterRestart, "reconnected"), { username: "Alice", profileImage: PNG_DATA_URL });

  // Renaming keeps the token.
  assert.deepEqual(await call(afterRestart, "set-username", { username: "Alicia" }), { ok: true });
  const renamed = await next(afterRestart, "username-saved");
  assert.equal(renamed.token, saved.token);
  assert.equal(renamed.username, "Alicia");
  afterRestart.disconnect();
  bob.disconnect();
});

test("a first visit sends no token and receives nothing", async () => {
  const s = await connect(server.url, { token: "" });
  await nothing(s, "token-expired");
  await nothing(s, "reconnected", 0);
  s.disconnect();
});

test("an unknown token gets token-expired and the socket works as a new user", async () => {
  const s = await connect(server.url, { token: "A".repeat(43) });
  assert.deepEqual(await next(s, "token-expired"), {});
  assert.deepEqual(await call(s, "get-profile"), { ok: false, error: { code: "no-session", message: "Save a username first." } });
  assert.deepEqual(await call(s, "set-username", { username: "Zoé" }), { ok: true });
  assert.equal((await next(s, "username-saved")).username, "Zoé");
  s.disconnect();
});

test("logout revokes the token", async () => {
  const s = await connect(server.url);
  await call(s, "set-username", { username: "Carl" });
  const { token } = await next(s, "username-saved");
  assert.deepEqual(await call(s, "logout"), { ok: true });
  assert.equal((await call(s, "get-profile")).error.code, "no-session");
  s.disconnect();
  const again = await connect(server.url, { token });
  assert.deepEqual(await next(again, "token-expired"), {});
  again.disconnect();
});

test("a token past its TTL is refused", async () => {
  const short = await startServer({ args: ["--token-ttl", "1s"] });
  try {
    const s = await connect(short.url);
    await call(s, "set-username", { username: "Dora" });
    const { token, expiresAt } = await next(s, "username-saved");
    s.disconnect();
    const valid = await connect(short.url, { token });
    assert.equal((await next(valid, "reconnected")).username, "Dora", "still valid before the TTL");
    valid.disconnect();
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 200));
    const late = await connect(short.url, { token });
    assert.deepEqual(await next(late, "token-expired"), {});
    late.disconnect();
  } finally {
    await short.close();
  }
});
