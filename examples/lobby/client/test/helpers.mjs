// Helpers for driving a real lobby-server with the stock npm socket.io-client.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { io } from "socket.io-client";

const module = resolve(import.meta.dirname, "../..");

/** The lobby-server binary: LOBBY_SERVER_BIN, or built into dir. */
function serverBinary(dir) {
  if (process.env.LOBBY_SERVER_BIN) return process.env.LOBBY_SERVER_BIN;
  const bin = join(dir, "lobby-server");
  execFileSync("go", ["build", "-o", bin, "./cmd/lobby-server"], { cwd: module, stdio: "inherit" });
  return bin;
}

async function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on("error", fail);
  });
}

/** Starts lobby-server on a free loopback port; returns {url, close(), output()}. */
export async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), "lobby-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = "";
  const proc = spawn(serverBinary(dir), ["--addr", `127.0.0.1:${port}`], { stdio: ["ignore", "ignore", "pipe"] });
  proc.stderr.on("data", (d) => { log += d; });
  const kill = () => proc.kill("SIGKILL");
  process.once("exit", kill); // never leave a server behind, even when a test throws
  await waitListening(url, proc);
  return {
    url,
    output: () => log,
    async close() {
      process.off("exit", kill);
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((ok) => proc.once("exit", ok));
        proc.kill("SIGTERM");
        const timer = setTimeout(kill, 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until the Engine.IO handshake answers (the server has no health route). */
async function waitListening(url, proc) {
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`lobby-server exited with ${proc.exitCode}`);
    try {
      const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("lobby-server did not start within 30 s");
}

function open(url, auth) {
  const socket = io(url, { transports: ["websocket"], reconnection: false, forceNew: true, auth, timeout: 3000 });
  socket.received = [];
  socket.onAny((event, ...args) => socket.received.push({ event, args }));
  return socket;
}

/** Connects with auth and waits for connect; rejects with connect_error's error. */
export async function connect(url, auth) {
  const socket = open(url, auth);
  await new Promise((ok, fail) => {
    socket.once("connect", ok);
    socket.once("connect_error", (err) => { socket.close(); fail(err); });
  });
  return socket;
}

/** Connects with auth, expecting the handshake to be refused; resolves with connect_error's data. */
export async function refused(url, auth) {
  const socket = open(url, auth);
  try {
    return await new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error("no connect_error within 3 s")), 3000);
      socket.once("connect", () => { clearTimeout(timer); fail(new Error("the handshake was accepted")); });
      socket.once("connect_error", (err) => { clearTimeout(timer); ok(err.data); });
    });
  } finally {
    socket.close();
  }
}

/** Emits with an ack and returns the envelope. */
export function call(socket, event, ...payload) {
  return socket.timeout(3000).emitWithAck(event, ...payload);
}

/** Resolves with the payload of the first `event` not yet taken (already received or coming). */
export function next(socket, event, timeout = 3000) {
  const take = () => {
    const i = socket.received.findIndex((r) => r.event === event);
    return i < 0 ? undefined : socket.received.splice(i, 1)[0];
  };
  const seen = take();
  if (seen) return Promise.resolve(seen.args[0]);
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no ${event} within ${timeout} ms`)), timeout);
    socket.once(event, () => {
      clearTimeout(timer);
      ok(take().args[0]);
    });
  });
}

/** Asserts that `event` does not arrive within ms. */
export async function nothing(socket, event, ms = 300) {
  await new Promise((r) => setTimeout(r, ms));
  const got = socket.received.filter((r) => r.event === event);
  if (got.length > 0) throw new Error(`unexpected ${event}: ${JSON.stringify(got)}`);
}
