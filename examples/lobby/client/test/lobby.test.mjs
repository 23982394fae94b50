// The lobby over a real lobby-server, driven by the stock npm socket.io-client: the
// handshake's declared errors and checks, enums, replies with nested objects, and
// the room and others targets.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, connect, refused, call, next, nothing } from "./helpers.mjs";

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.close(); });

test("the handshake refuses a taken or reserved name with its declared code, a bad field with its path", async () => {
  const ann = await connect(server.url, { playerName: "Ann", clientVersion: "test" });
  try {
    assert.deepEqual(await refused(server.url, { playerName: " ann " }),
      { code: "name-taken", message: "Another player is using that name." });
    const jose = await connect(server.url, { playerName: "Jose\u0301" }); // a combining accent
    assert.equal((await refused(server.url, { playerName: "Jos\u00e9" })).code, "name-taken", "names are compared in NFC");
    jose.disconnect();
    assert.deepEqual(await refused(server.url, { playerName: "Admin" }),
      { code: "reserved-name", message: "That name is reserved." });
    for (const auth of [{}, { playerName: "" }, { playerName: "x".repeat(25) }, { playerName: "<b>" }, { playerName: 7 }]) {
      const data = await refused(server.url, auth);
      assert.equal(data.code, "invalid-payload", JSON.stringify(auth));
      assert.equal(data.path, "playerName", JSON.stringify(auth));
      assert.equal(typeof data.message, "string");
    }
    const data = await refused(server.url, { playerName: "Zed", clientVersion: "v".repeat(33) });
    assert.equal(data.path, "clientVersion");
  } finally {
    ann.disconnect();
  }
  // The name is free again once its socket is gone.
  const again = await waitConnect(server.url, { playerName: "Ann" });
  again.disconnect();
});

test("two players join a lobby, pick teams, chat, ready up and the game starts", async () => {
  const ann = await connect(server.url, { playerName: "Ann" });
  const ben = await connect(server.url, { playerName: "Ben" });
  const cat = await connect(server.url, { playerName: "Cat" }); // never joins
  try {
    const joined = await call(ann, "join-lobby", { lobby: "arena" });
    assert.equal(joined.ok, true);
    assert.equal(joined.data.id, "arena");
    assert.equal(joined.data.status, "waiting");
    assert.equal(joined.data.host, "Ann");
    assert.deepEqual(joined.data.teams, [{ team: "red", players: [] }, { team: "blue", players: [] }]);
    assert.equal(joined.data.players.length, 1);
    assert.equal(joined.data.players[0].name, "Ann");
    assert.equal("team" in joined.data.players[0], false, "an optional field left out is absent");

    // player-joined goes to the others of the room: Ann, not Ben (he has the reply) nor Cat.
    assert.equal((await call(ben, "join-lobby", { lobby: "arena" })).data.players.length, 2);
    const pj = await next(ann, "player-joined");
    assert.equal(pj.lobby, "arena");
    assert.equal(pj.player.name, "Ben");
    assert.equal(pj.player.ready, false);
    assert.ok(Math.abs(pj.player.joinedAt - Date.now()) < 10000);
    await nothing(ben, "player-joined");
    await nothing(cat, "player-joined", 0);
    assert.equal((await call(ben, "join-lobby", { lobby: "arena" })).error.code, "already-in-lobby");

    // Teams are an enum: the server refuses a value outside it, with the field's path.
    const green = await call(ann, "pick-team", { team: "green" });
    assert.equal(green.error.code, "invalid-payload");
    assert.equal(green.error.path, "team");
    assert.deepEqual(await call(ann, "set-ready", { ready: true }),
      { ok: false, error: { code: "no-team", message: "Pick a team first." } });
    assert.deepEqual(await call(ann, "pick-team", { team: "red" }), { ok: true });
    assert.deepEqual(await call(ben, "pick-team", { team: "blue" }), { ok: true });
    for (const s of [ann, ben]) {
      assert.deepEqual(await next(s, "team-picked"), { lobby: "arena", name: "Ann", team: "red" });
      assert.deepEqual(await next(s, "team-picked"), { lobby: "arena", name: "Ben", team: "blue" });
    }

    // Chat reaches the room's members, the sender included, and nobody else.
    assert.deepEqual(await call(ann, "chat", { text: "  gl hf  " }), { ok: true });
    for (const s of [ann, ben]) {
      const m = await next(s, "chat-message");
      assert.equal(m.from, "Ann");
      assert.equal(m.team, "red");
      assert.equal(m.text, "gl hf", "ChatText is trimmed");
      assert.equal(typeof m.sentAt, "number");
    }
    await nothing(cat, "chat-message");
    assert.equal((await call(cat, "chat", { text: "let me in" })).error.code, "not-in-lobby");

    // get-lobby answers with the nested players and teams, for one's own lobby or a named one.
    const mine = await call(ben, "get-lobby", {});
    const theirs = await call(cat, "get-lobby", { lobby: "arena" });
    assert.deepEqual(theirs, mine);
    assert.deepEqual(mine.data.teams, [{ team: "red", players: ["Ann"] }, { team: "blue", players: ["Ben"] }]);
    assert.deepEqual(mine.data.players.map((p) => [p.name, p.team, p.ready]), [["Ann", "red", false], ["Ben", "blue", false]]);
    assert.equal((await call(cat, "get-lobby", {})).error.code, "not-in-lobby");
    assert.equal((await call(cat, "get-lobby", { lobby: "nowhere" })).error.code, "unknown-lobby");
    assert.equal((await call(cat, "get-lobby", { lobby: "Not An ID" })).error.path, "lobby");

    // Everyone ready on a filled team: game-starting, once.
    assert.deepEqual(await call(ann, "set-ready", { ready: true }), { ok: true });
    assert.deepEqual(await call(ben, "set-ready", { ready: true }), { ok: true });
    for (const s of [ann, ben]) {
      assert.deepEqual(await next(s, "player-ready"), { lobby: "arena", name: "Ann", ready: true });
      assert.deepEqual(await next(s, "player-ready"), { lobby: "arena", name: "Ben", ready: true });
      assert.deepEqual(await next(s, "game-starting"),
        { lobby: "arena", teams: [{ team: "red", players: ["Ann"] }, { team: "blue", players: ["Ben"] }] });
    }
    assert.equal((await call(ann, "get-lobby", {})).data.status, "starting");
    await nothing(cat, "game-starting", 0);

    // Ben leaves by disconnecting: Ann hears it and is still the host.
    ben.disconnect();
    assert.deepEqual(await next(ann, "player-left"), { lobby: "arena", name: "Ben", host: "Ann" });
    assert.deepEqual(await call(ann, "leave-lobby"), { ok: true });
    assert.equal((await call(cat, "get-lobby", { lobby: "arena" })).error.code, "unknown-lobby", "an empty lobby is gone");
  } finally {
    for (const s of [ann, ben, cat]) s.disconnect();
  }
});

/** Connects, retrying while the server still holds the name of a socket that just left. */
async function waitConnect(url, auth) {
  const deadline = Date.now() + 3000;
  for (;;) {
    try {
      return await connect(url, auth);
    } catch (err) {
      if (err.data?.code !== "name-taken" || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
