// Helpers for running several karl-server nodes on one PostgreSQL and one Redis.
// The databases come from internal/testdb/cmd/karl-testdb, the Go tests' own
// starter: a real PostgreSQL (initdb in a temp dir, random port) and a real
// redis-server (random port, no persistence). A missing server fails the test.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { startServer } from "./helpers.mjs";

const repo = resolve(import.meta.dirname, "../../..");

/** The karl-testdb binary: KARL_TESTDB_BIN, or built once into a temp dir. */
let built;
function testdbBinary() {
  if (process.env.KARL_TESTDB_BIN) return process.env.KARL_TESTDB_BIN;
  if (!built) {
    const dir = mkdtempSync(join(tmpdir(), "karl-testdb-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    built = join(dir, "karl-testdb");
    execFileSync("go", ["build", "-o", built, "./internal/testdb/cmd/karl-testdb"], { cwd: repo, stdio: "inherit" });
  }
  return built;
}

/**
 * Starts PostgreSQL and Redis. Returns {postgres, redis, killRedis(), restartRedis(), close()}:
 * postgres is a database URL, redis a redis:// URL.
 */
export async function startDatabases() {
  const proc = spawn(testdbBinary(), [], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (d) => { stderr += d; });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const exited = new Promise((ok) => proc.once("close", ok)); // exited, and its output read
  const readLine = async () => {
    const next = await lines.next();
    if (next.done) {
      const code = await exited;
      throw new Error(`karl-testdb exited with ${code}:\n${stderr}`);
    }
    return JSON.parse(next.value);
  };
  const urls = await readLine();
  const command = async (cmd) => {
    proc.stdin.write(cmd + "\n");
    const res = await readLine();
    if (res.error) throw new Error(`karl-testdb ${cmd}: ${res.error}`);
  };
  return {
    ...urls,
    killRedis: () => command("redis-kill"),
    restartRedis: () => command("redis-restart"),
    async close() {
      proc.stdin.end(); // karl-testdb stops both servers and deletes their files
      await exited;
    },
  };
}

/** Starts a karl-server node on the shared databases; see startServer for what it returns. */
export function startNode(dbs, { args = [] } = {}) {
  // Later flags win: these replace startServer's SQLite --db.
  return startServer({ args: ["--db", dbs.postgres, "--redis", dbs.redis, ...args] });
}
