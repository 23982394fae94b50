// The reference server of the benchmarks: the KARL events the workloads use,
// on Node.js socket.io 4.8, as a Node programmer would write them. Same wire
// contract as karl-server ({ok, data} / {ok:false, error} acks), same checks
// (names trimmed, lengths in code points, the schema's patterns; photos
// decoded strictly, sniffed, their dimensions bounded, then fully decoded),
// and the same persistence: SQLite (better-sqlite3) in WAL mode with
// synchronous=FULL, on the schema of app/store/sqlite/migrations.
//
//   node server.js --addr 127.0.0.1:3000 --db node.db [--debug]
//
// --debug serves /debug/bench/stats (memory, and a full GC first with ?gc=1
// when node runs with --expose-gc), for the memory workload.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import sharp from "sharp";
import { Server } from "socket.io";

const { values: args } = parseArgs({
  options: {
    addr: { type: "string", default: "127.0.0.1:3000" },
    db: { type: "string", default: "node.db" },
    debug: { type: "boolean", default: false },
  },
});

// --- the store: the Go store's schema and statements -------------------------

const db = new Database(args.db);
db.pragma("busy_timeout = 5000");
db.pragma("foreign_keys = ON");
db.pragma("journal_mode = WAL");
db.pragma("synchronous = FULL");
if (db.pragma("journal_mode", { simple: true }) !== "wal") throw new Error("journal_mode is not wal");
db.exec(readFileSync(new URL("../../app/store/sqlite/migrations/0001_init.sql", import.meta.url), "utf8"));

const sql = {
  insertSession: db.prepare("INSERT INTO sessions (username, created_at, updated_at) VALUES (?, ?, ?)"),
  insertToken: db.prepare("INSERT INTO tokens (hash, session_id, issued_at, expires_at) VALUES (?, ?, ?, ?)"),
  rename: db.prepare("UPDATE sessions SET username = ?, updated_at = ? WHERE id = ?"),
  setImage: db.prepare("UPDATE sessions SET image_mime = ?, image = ?, updated_at = ? WHERE id = ?"),
  byToken: db.prepare(`SELECT s.id, s.username, s.image_mime, s.image, s.created_at, s.updated_at, t.expires_at, t.revoked_at
    FROM tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = ?`),
};
// BEGIN IMMEDIATE, as the Go store's write transactions.
const createSession = db.transaction((username, hash, issued, expires) => {
  const id = sql.insertSession.run(username, issued, issued).lastInsertRowid;
  sql.insertToken.run(hash, id, issued, expires);
  return Number(id);
});
const inTx = (fn) => db.transaction(fn).immediate;
const renameSession = inTx((username, now, id) => {
  if (sql.rename.run(username, now, id).changes !== 1) throw new Error("session not found");
});
const setProfileImage = inTx((mime, data, now, id) => {
  if (sql.setImage.run(mime, data, now, id).changes !== 1) throw new Error("session not found");
});

const TOKEN_TTL = 7 * 24 * 3600 * 1000;
const hashToken = (token) => createHash("sha256").update(token).digest();

// --- checks -----------------------------------------------------------------

const usernamePattern = /^[\p{L}\p{M}\p{N} _.\-]+$/u;
const roomPattern = /^[\p{L}\p{M}\p{N} _.:\-]+$/u;
const codePoints = (s) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};
const fail = (code, message, path) => ({ ok: false, error: path ? { code, message, path } : { code, message } });
const ok = { ok: true };

// name reads a trimmed name as the schema's Username and RoomName do; null when invalid.
function name(payload, key, maxLength, pattern) {
  const v = payload?.[key];
  if (typeof v !== "string") return null;
  const s = v.trim();
  const n = codePoints(s);
  return n >= 1 && n <= maxLength && pattern.test(s) ? s : null;
}

// The photo check of app/imagecheck: data URL or raw base64, strict base64,
// the real type sniffed and matching the declared one, dimensions read before
// decoding (decompression bombs), then a full decode.
const MAX_BYTES = 256 << 10;
const MAX_SIDE = 2048;
const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;
const dataURLPattern = /^data:(image\/(?:png|jpeg|webp|gif));base64,/;
const magic = [
  ["image/png", (b) => b.length > 8 && b.readUInt32BE(0) === 0x89504e47],
  ["image/jpeg", (b) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ["image/gif", (b) => b.length > 6 && b.toString("latin1", 0, 4) === "GIF8"],
  ["image/webp", (b) => b.length > 12 && b.toString("latin1", 0, 4) === "RIFF" && b.toString("latin1", 8, 12) === "WEBP"],
];

async function checkImage(s) {
  if (s.length > 23 + Math.ceil(MAX_BYTES / 3) * 4) return { error: "image too large" };
  let declared = null;
  let payload = s;
  const m = dataURLPattern.exec(s);
  if (m) {
    declared = m[1];
    payload = s.slice(m[0].length);
  } else if (s.startsWith("data:")) return { error: "not an image data URL" };
  if (payload.length % 4 !== 0 || !base64Pattern.test(payload)) return { error: "invalid base64" };
  const data = Buffer.from(payload, "base64");
  if (data.length === 0 || data.length > MAX_BYTES) return { error: "image too large" };
  const sniffed = magic.find(([, is]) => is(data))?.[0];
  if (!sniffed || (declared && declared !== sniffed)) return { error: "unsupported or mismatched image type" };
  try {
    const img = sharp(data, { failOn: "error", limitInputPixels: MAX_SIDE * MAX_SIDE });
    const meta = await img.metadata();
    if (!meta.width || !meta.height || meta.width > MAX_SIDE || meta.height > MAX_SIDE) return { error: "image too large" };
    await img.raw().toBuffer();
  } catch {
    return { error: "image does not decode" };
  }
  return { mime: sniffed, data };
}

// --- the server ---------------------------------------------------------------

const [host, port] = args.addr.split(/:(?=\d+$)/);
const httpServer = createServer((req, res) => {
  if (args.debug && req.url.startsWith("/debug/bench/stats")) {
    if (req.url.includes("gc=1") && globalThis.gc) globalThis.gc();
    const mem = process.memoryUsage();
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ rss: mem.rss, heap_used: mem.heapUsed, heap_total: mem.heapTotal, external: mem.external, sockets: io.engine.clientsCount }));
    return;
  }
  res.statusCode = 404;
  res.end();
});
const io = new Server(httpServer, {
  serveClient: false,
  maxHttpBufferSize: 23 + Math.ceil(MAX_BYTES / 3) * 4 + 4096,
  pingInterval: 25000,
  pingTimeout: 20000,
  connectTimeout: 10000,
});

io.use((socket, next) => {
  const token = socket.handshake.auth?.token;
  if (typeof token !== "string" || token === "") return next();
  const row = sql.byToken.get(hashToken(token));
  if (row && row.revoked_at === null && row.expires_at > Date.now()) {
    socket.data.session = { id: row.id, username: row.username, token, expiresAt: row.expires_at, image: row.image, mime: row.image_mime };
  } else {
    socket.data.expired = true;
  }
  next();
});

io.on("connection", (socket) => {
  const restored = socket.data.session;
  if (restored) {
    const profile = { username: restored.username };
    if (restored.image) profile.profileImage = `data:${restored.mime};base64,${restored.image.toString("base64")}`;
    restored.image = undefined;
    socket.emit("reconnected", profile);
  } else if (socket.data.expired) {
    socket.emit("token-expired", {});
  }

  socket.on("echo", (payload, ack) => {
    const m = payload?.m;
    if (typeof m !== "string" || codePoints(m) > 1024) return ack?.(fail("invalid-payload", "expected a string", "m"));
    ack?.({ ok: true, data: { m } });
  });

  socket.on("set-username", (payload, ack) => {
    const username = name(payload, "username", 32, usernamePattern);
    if (username === null) return ack?.(fail("invalid-payload", "not a valid name", "username"));
    const now = Date.now();
    let sess = socket.data.session;
    try {
      if (sess) {
        renameSession(username, now, sess.id);
      } else {
        const token = randomBytes(32).toString("base64url");
        const expiresAt = now + TOKEN_TTL;
        const id = createSession(username, hashToken(token), now, expiresAt);
        sess = socket.data.session = { id, token, expiresAt };
      }
    } catch {
      return ack?.(fail("internal", "internal error"));
    }
    sess.username = username;
    socket.emit("username-saved", { token: sess.token, username, expiresAt: sess.expiresAt });
    io.emit("new-user-connected", { username });
    ack?.(ok);
  });

  socket.on("upload-profile-image", async (payload, ack) => {
    const s = payload?.imageBase64;
    if (typeof s !== "string" || s === "") return ack?.(fail("invalid-payload", "expected a string", "imageBase64"));
    const sess = socket.data.session;
    if (!sess) return ack?.(fail("no-session", "Save a username first."));
    const img = await checkImage(s);
    if (img.error) return ack?.(fail("invalid-image", img.error));
    try {
      setProfileImage(img.mime, img.data, Date.now(), sess.id);
    } catch {
      return ack?.(fail("internal", "internal error"));
    }
    socket.emit("profile-image-saved", {});
    ack?.(ok);
  });

  socket.on("join-room", (payload, ack) => {
    const room = name(payload, "room", 64, roomPattern);
    if (room === null) return ack?.(fail("invalid-payload", "not a valid name", "room"));
    if (!socket.data.session) return ack?.(fail("no-session", "Save a username first."));
    socket.join(room);
    ack?.(ok);
  });

  socket.on("send-message", (payload, ack) => {
    const room = name(payload, "room", 64, roomPattern);
    if (room === null) return ack?.(fail("invalid-payload", "not a valid name", "room"));
    const text = payload?.text;
    if (typeof text !== "string" || text.length === 0 || codePoints(text) > 2000) {
      return ack?.(fail("invalid-payload", "expected a text of 1 to 2000 characters", "text"));
    }
    const sess = socket.data.session;
    if (!sess) return ack?.(fail("no-session", "Save a username first."));
    if (!socket.rooms.has(room)) return ack?.(fail("not-in-room", "Join the room first."));
    io.to(room).emit("new-message", { room, username: sess.username, text, sentAt: Date.now() });
    ack?.(ok);
  });
});

httpServer.listen(Number(port), host, () => {
  const a = httpServer.address();
  console.log(`listening on ${a.address}:${a.port}`);
});

for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => {
    io.close();
    db.close();
    process.exit(0);
  });
}
