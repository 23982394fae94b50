// kill -9 in the middle of writes loses no acknowledged write.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startServer, connect, call, next } from "./helpers.mjs";

const ROUNDS = Number(process.env.KARL_CRASH_ROUNDS ?? 5);

test(`karl-server killed with SIGKILL mid-writes, ${ROUNDS} times: every acknowledged username is restored`, async () => {
  const server = await startServer();
  const acked = []; // {token, username}
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const writers = await Promise.all(Array.from({ length: 4 }, () => connect(server.url)));
      let stop = false;
      const loops = writers.map(async (s, w) => {
        for (let i = 0; !stop; i++) {
          const username = `r${round}w${w}n${i}`;
          const tokenP = next(s, "username-saved", 3000).catch(() => null);
          let res;
          try { res = await call(s, "set-username", { username }); } catch { return; } // killed mid-call
          if (!res.ok) throw new Error(JSON.stringify(res));
          const saved = await tokenP;
          if (!saved) return;
          acked.push({ token: saved.token, username });
        }
      });
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 250));
      await server.stop("SIGKILL");
      stop = true;
      await Promise.all(loops);
      writers.forEach((s) => s.close());
      await server.restart(); // reopens the same database: it must open and migrate
    }
    assert.ok(acked.length > ROUNDS, `only ${acked.length} writes were acknowledged`);
    for (const { token, username } of acked) {
      const s = await connect(server.url, { token });
      const got = await next(s, "reconnected");
      // Renames of one socket keep its token: the store holds the latest acknowledged
      // name, or a later one whose write committed just before the kill, unacknowledged.
      const latest = acked.filter((a) => a.token === token).at(-1).username;
      const [, prefix, n] = latest.match(/^(.*n)(\d+)$/);
      assert.ok(got.username.startsWith(prefix) && Number(got.username.slice(prefix.length)) >= Number(n),
        `token of ${username}: restored ${got.username}, latest acknowledged ${latest}`);
      s.close();
    }
  } finally {
    await server.close();
  }
});
