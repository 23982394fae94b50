// A real Prometheus (Debian's package) scrapes karl-server's --metrics-addr
// every second while the stock npm client runs a scripted session; PromQL
// through Prometheus's HTTP API then returns the counts the session made.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, connect, call, freePort } from "./helpers.mjs";

function prometheusBinary() {
  try {
    return execFileSync("sh", ["-c", "command -v prometheus"]).toString().trim();
  } catch {
    return null;
  }
}

const bin = prometheusBinary();
let server, prom, promURL, dir;

before(async () => {
  if (!bin) return;
  const metricsPort = await freePort();
  server = await startServer({ args: ["--metrics-addr", `127.0.0.1:${metricsPort}`] });
  dir = mkdtempSync(join(tmpdir(), "karl-prom-"));
  writeFileSync(join(dir, "prometheus.yml"), [
    "global: {scrape_interval: 1s, evaluation_interval: 1s}",
    "scrape_configs:",
    "  - job_name: karl",
    "    scrape_interval: 1s",
    "    scrape_timeout: 900ms",
    `    static_configs: [{targets: ["127.0.0.1:${metricsPort}"]}]`,
    "",
  ].join("\n"));
  const promPort = await freePort();
  promURL = `http://127.0.0.1:${promPort}`;
  prom = spawn(bin, [
    `--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${promPort}`, "--log.level=warn",
  ], { stdio: ["ignore", "ignore", "pipe"] });
  let promLog = "";
  prom.stderr.on("data", (d) => { promLog += d; });
  const deadline = Date.now() + 30000;
  for (;;) {
    if (prom.exitCode !== null) throw new Error(`prometheus exited with ${prom.exitCode}: ${promLog}`);
    try { if ((await fetch(`${promURL}/-/ready`)).ok) break; } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`prometheus not ready: ${promLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(async () => {
  if (prom && prom.exitCode === null) {
    const exited = new Promise((ok) => prom.once("exit", ok));
    prom.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (prom.exitCode === null) prom.kill("SIGKILL");
  }
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs an instant PromQL query and returns the value of its single sample (0 when empty). */
async function query(q) {
  const res = await fetch(`${promURL}/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(5000) });
  const body = await res.json();
  assert.equal(body.status, "success", JSON.stringify(body));
  const [sample] = body.data.result;
  return sample ? Number(sample.value[1]) : 0;
}

/** Polls until every query returns its expected value (the scrape is every second). */
async function eventually(want, timeout = 20000) {
  const deadline = Date.now() + timeout;
  let got;
  for (;;) {
    got = {};
    for (const q of Object.keys(want)) got[q] = await query(q);
    if (Object.keys(want).every((q) => got[q] === want[q]) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.deepEqual(got, want);
}

test("Prometheus scrapes the counts of a scripted session", { skip: !bin && "prometheus is not installed (make deps-prometheus)" }, async () => {
  const a = await connect(server.url);
  const b = await connect(server.url);
  for (const name of ["Ann", "Anna", "Annie"]) assert.equal((await call(a, "set-username", { username: name })).ok, true);
  assert.equal((await call(b, "set-username", { username: 42 })).error.code, "invalid-payload");
  assert.equal((await call(b, "get-profile")).error.code, "no-session");
  assert.equal((await call(b, "x".repeat(200), {})).error.code, "unknown-event");

  await eventually({
    'sum(karl_events_total{event="set-username",code="ok"})': 3,
    'sum(karl_events_total{event="set-username",code="invalid-payload"})': 1,
    'sum(karl_events_total{event="get-profile",code="no-session"})': 1,
    'sum(karl_events_total{event="unknown",code="unknown-event"})': 1,
    'count(karl_events_total{event=~"x+"})': 0, // the client's invented name is no label value
    'sum(karl_handshakes_total{code="ok"})': 2,
    "karl_sockets_connected": 2,
    'sum(karl_event_duration_seconds_count{event="set-username"})': 4,
    'sum(karl_store_operation_duration_seconds_count{op="CreateSession"})': 1, // Ann's session; the renames keep it
  });
  a.disconnect();
  b.disconnect();
  await eventually({ "karl_sockets_connected": 0 });
});
