// Helpers for driving a real karl-server with the stock npm socket.io-client.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { io } from "socket.io-client";

const repo = resolve(import.meta.dirname, "../../..");

/** The karl-server binary: KARL_SERVER_BIN, or built once into a temp dir. */
let built;
export function serverBinary() {
  if (process.env.KARL_SERVER_BIN) return process.env.KARL_SERVER_BIN;
  if (!built) {
    built = join(mkdtempSync(join(tmpdir(), "karl-bin-")), "karl-server");
    execFileSync("go", ["build", "-o", built, "./app/cmd/karl-server"], { cwd: repo, stdio: "inherit" });
  }
  return built;
}

export async function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on("error", fail);
  });
}

/**
 * Starts karl-server on a free port with a database in a temp dir (or the given one).
 * Returns {url, dbPath, stop(), restart(), output()}.
 */
export async function startServer({ args = [], dbDir } = {}) {
  const dir = dbDir ?? mkdtempSync(join(tmpdir(), "karl-db-"));
  const dbPath = join(dir, "karl.db");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let proc;
  let log = "";
  const launch = async () => {
    proc = spawn(serverBinary(), [
      "--addr", `127.0.0.1:${port}`, "--db", dbPath, "--log-level", "info",
      "--event-rate", "1000", "--event-burst", "1000", "--handshake-rate", "1000", "--handshake-burst", "1000",
      "--upload-rate", "1000", "--upload-burst", "1000",
      ...args,
    ], { stdio: ["ignore", "inherit", "pipe"] });
    proc.stderr.on("data", (d) => { log += d; });
    await waitHealthy(url, proc);
  };
  await launch();
  const stop = async (signal = "SIGTERM") => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((ok) => proc.once("exit", ok));
    proc.kill(signal);
    await exited;
  };
  return {
    url, dbPath, dir,
    stop,
    async restart() { await stop(); await launch(); },
    output: () => log,
    async close() { await stop(); if (!dbDir) rmSync(dir, { recursive: true, force: true }); },
  };
}

async function waitHealthy(url, proc) {
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`karl-server exited with ${proc.exitCode}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("karl-server did not become healthy");
}

/** Connects a socket (websocket only, no automatic reconnection) and waits for connect. */
export async function connect(url, auth, opts = {}) {
  const socket = io(url, { transports: ["websocket"], reconnection: false, auth, forceNew: true, ...opts });
  socket.received = [];
  socket.onAny((event, ...args) => socket.received.push({ event, args }));
  await new Promise((ok, fail) => {
    socket.once("connect", ok);
    socket.once("connect_error", fail);
  });
  return socket;
}

/** Emits with an ack and returns the envelope. */
export function call(socket, event, ...payload) {
  return socket.timeout(5000).emitWithAck(event, ...payload);
}

/** Resolves with the first args of `event` (already received or coming). */
export function next(socket, event, timeout = 5000) {
  const seen = socket.received.findIndex((r) => r.event === event);
  if (seen >= 0) return Promise.resolve(socket.received.splice(seen, 1)[0].args[0]);
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no ${event} within ${timeout} ms`)), timeout);
    socket.once(event, (arg) => {
      clearTimeout(timer);
      const i = socket.received.findIndex((r) => r.event === event);
      if (i >= 0) socket.received.splice(i, 1);
      ok(arg);
    });
  });
}

/** Asserts that `event` does not arrive within ms. */
export async function nothing(socket, event, ms = 300) {
  await new Promise((r) => setTimeout(r, ms));
  const got = socket.received.filter((r) => r.event === event);
  if (got.length > 0) throw new Error(`unexpected ${event}: ${JSON.stringify(got)}`);
}

/** A valid 2x2 PNG (red), as a data URL. */
export const PNG_DATA_URL = "data:image/png;base64," +
  "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEUlEQVR4nGP4z8DwnwGMgRQAH+4D/dJQfRoAAAAASUVORK5CYII=";
