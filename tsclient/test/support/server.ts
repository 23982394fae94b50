// Starts and stops real karl-server processes for the tests.

import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { get } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";

/** The limits the tests run under: high enough that no test is rate limited by accident. */
export const RELAXED_LIMITS = [
  "--event-rate", "1000", "--event-burst", "1000",
  "--upload-rate", "100", "--upload-burst", "100",
  "--handshake-rate", "1000", "--handshake-burst", "1000",
];

export interface ServerOptions {
  /** The karl-server binary. */
  bin: string;
  /** A directory of its own: the database goes there unless db is given. */
  dir: string;
  /** The port; a free one when absent. Restarting on the same port and db is a server restart. */
  port?: number;
  db?: string;
  /** More flags, after RELAXED_LIMITS (a flag given twice takes the last value). */
  args?: string[];
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly db: string;
  /** stop sends SIGTERM and waits for the process to exit. */
  stop(): Promise<void>;
  /** kill ends the process at once, as a crash would. */
  kill(): Promise<void>;
}

/** freePort asks the system for a port nobody listens on. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const address = srv.address();
  srv.close();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** startServer runs karl-server and resolves once GET /healthz answers 200. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const port = opts.port ?? (await freePort());
  const db = opts.db ?? join(opts.dir, `karl-${port}.db`);
  const args = ["--addr", `127.0.0.1:${port}`, "--db", db, "--log-level", "warn", ...RELAXED_LIMITS, ...(opts.args ?? [])];
  const child = spawn(opts.bin, args, { stdio: ["ignore", "inherit", "pipe"] });
  // A test that times out never calls stop: end the server with the test process.
  const killOnExit = () => child.kill("SIGKILL");
  process.on("exit", killOnExit);
  child.on("exit", () => process.off("exit", killOnExit));
  let log = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  const exited = once(child, "exit");
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(url, child);
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`karl-server ${args.join(" ")} did not start: ${String(err)}\n${log}`);
  }
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return { url, port, db, stop: () => end("SIGTERM"), kill: () => end("SIGKILL") };
}

async function waitHealthy(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
    if ((await status(`${url}/healthz`)) === 200) return;
    if (Date.now() > deadline) throw new Error("GET /healthz did not answer 200 within 15 s");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** status is the HTTP status of GET url, 0 when nothing answers. It uses node:http, not
 * fetch: in a DOM test environment fetch is the DOM's, with CORS. */
export function status(url: string): Promise<number> {
  return new Promise((resolve) => {
    get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on("error", () => resolve(0));
  });
}
