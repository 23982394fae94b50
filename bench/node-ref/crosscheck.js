// The cross-check of the load generator: the echo workload (W0) driven by
// the stock npm socket.io-client instead of bench/cmd/loadgen, against the
// same server, printing the same JSON fields. benchrun runs both once and
// docs/BENCHMARKS.md says how close they are.
//
//   node crosscheck.js --url http://127.0.0.1:3000 --server-pid 1234 --conns 50 [--rate 1000]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { io } from "socket.io-client";

const { values: a } = parseArgs({
  options: {
    url: { type: "string", default: "http://127.0.0.1:3000" },
    "server-pid": { type: "string", default: "0" },
    conns: { type: "string", default: "50" },
    rate: { type: "string", default: "0" },
    warmup: { type: "string", default: "1" },
    duration: { type: "string", default: "3" },
  },
});
const conns = Number(a.conns);
const rate = Number(a.rate);
const warmupMs = Number(a.warmup) * 1000;
const durationMs = Number(a.duration) * 1000;
const serverPid = Number(a["server-pid"]);
const payload = { m: "0123456789abcdefghijklmn" }; // 32 bytes of JSON, as loadgen's

// serverCPU reads utime+stime of the server from /proc, in seconds.
function serverCPU() {
  if (!serverPid) return 0;
  const stat = readFileSync(`/proc/${serverPid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

const sockets = await Promise.all(
  Array.from({ length: conns }, () =>
    new Promise((resolve, reject) => {
      const s = io(a.url, { transports: ["websocket"], forceNew: true, reconnection: false });
      s.once("connect", () => resolve(s));
      s.once("connect_error", reject);
    }),
  ),
);

let phase = "warmup";
const samples = [];
let ops = 0;
let errors = 0;
let firstError = "";

function request(s, due) {
  s.emit("echo", payload, (res) => {
    const lat = Number(process.hrtime.bigint() - due) / 1e3;
    if (!res?.ok) {
      errors++;
      firstError ||= JSON.stringify(res);
    } else if (phase === "measure") {
      ops++;
      if (samples.length < 2_000_000) samples.push(lat);
    }
    if (rate <= 0 && phase !== "stop") request(s, process.hrtime.bigint());
  });
}

let timer;
if (rate <= 0) {
  for (const s of sockets) request(s, process.hrtime.bigint());
} else {
  const start = process.hrtime.bigint();
  const intervalNs = 1e9 / rate;
  let sent = 0;
  timer = setInterval(() => {
    const due = Math.floor(Number(process.hrtime.bigint() - start) / intervalNs);
    for (; sent <= due; sent++) request(sockets[sent % conns], start + BigInt(Math.round(sent * intervalNs)));
  }, 1);
}

await new Promise((r) => setTimeout(r, warmupMs));
phase = "measure";
const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
const s0 = serverCPU();
await new Promise((r) => setTimeout(r, durationMs));
phase = "stop";
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const c1 = process.cpuUsage(c0);
const s1 = serverCPU();
clearInterval(timer);

samples.sort((x, y) => x - y);
const q = (p) => (samples.length ? samples[Math.floor(p * (samples.length - 1))] : 0);
const clientCPU = (c1.user + c1.system) / 1e6;
console.log(
  JSON.stringify({
    workload: "echo",
    client: "socket.io-client",
    mode: rate > 0 ? "rate" : "closed",
    conns,
    rate,
    ops,
    seconds,
    throughput: ops / seconds,
    unit: "round trips/s",
    latency: { count: samples.length, p50_us: q(0.5), p90_us: q(0.9), p99_us: q(0.99), p999_us: q(0.999), max_us: q(1) },
    errors,
    first_error: firstError || undefined,
    client_cpu_cores: clientCPU / seconds,
    server_cpu_cores: (s1 - s0) / seconds,
    server_cpu_us_per_op: ops ? ((s1 - s0) * 1e6) / ops : 0,
    client_cpu_us_per_op: ops ? (clientCPU * 1e6) / ops : 0,
  }),
);
await new Promise((r) => setTimeout(r, 200));
for (const s of sockets) s.close();
process.exit(0);
