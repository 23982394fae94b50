// The package as users install it: npm pack (which builds dist/), the tarball installed
// into a fresh project, then imported from Node ESM, type-checked with nodenext
// resolution, bundled by Metro (React Native's configuration) and by Vite.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { build } from "vite";

import { bundle, consumerModules, consumers, exec, tempDir, tsclient } from "./support.mjs";

const versions = JSON.parse(readFileSync(join(consumers, "package.json"), "utf8")).devDependencies;
let project; // the fresh project the tarball is installed into
let tarball;
let cleanup;

before(async () => {
  ({ dir: project, cleanup } = tempDir("pack"));
  const packs = join(project, "packs");
  mkdirSync(packs);
  const started = Date.now();
  await exec("npm", ["pack", "--silent", "--pack-destination", packs], { cwd: tsclient });
  [tarball] = readdirSync(packs).map((f) => join(packs, f));
  console.log(`npm pack: ${tarball} in ${Date.now() - started} ms`);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "fresh-app", private: true, type: "module" }));
  // react is an optional peer: the core entry works without it.
  await npmInstall(tarball, `socket.io-client@${versions["socket.io-client"]}`);
});
after(() => cleanup?.());

/** npmInstall adds packages to the fresh project (from the npm cache when it has them). */
async function npmInstall(...specs) {
  await exec("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", ...specs], { cwd: project });
}

/** node runs an ES module in the fresh project and returns what it printed. */
async function node(name, source) {
  writeFileSync(join(project, name), source);
  return (await exec(process.execPath, [name], { cwd: project })).stdout.trim();
}

test("the tarball holds dist/ with .js imports, the source, the LICENSE; no tests", async () => {
  const { stdout } = await exec("tar", ["-tzf", tarball]);
  const files = stdout.split("\n").filter(Boolean);
  for (const f of ["package/dist/index.js", "package/dist/index.d.ts", "package/dist/react.js", "package/dist/testing.js", "package/dist/generated/api.js", "package/src/generated/api.ts", "package/LICENSE", "package/package.json"]) {
    assert.ok(files.includes(f), `${f} is not in the tarball`);
  }
  assert.ok(!files.some((f) => f.includes("/test/") || f.includes("node_modules") || f.includes("/consumers/")), files.join("\n"));
  const dist = join(project, "node_modules", "@karl-app", "client", "dist");
  assert.match(readFileSync(join(dist, "index.js"), "utf8"), /from "\.\/generated\/types\.js"/);
  assert.match(readFileSync(join(dist, "react.d.ts"), "utf8"), /from "\.\/generated\/react\.js"/);
  const pkg = JSON.parse(readFileSync(join(project, "node_modules", "@karl-app", "client", "package.json"), "utf8"));
  assert.equal(pkg.license, "MIT");
  assert.equal(pkg.private, undefined);
  assert.match(readFileSync(join(project, "node_modules", "@karl-app", "client", "LICENSE"), "utf8"), /Copyright \(c\) 2026 The KARL authors/);
});

test("Node ESM imports the core and testing entries without React, and they work", async () => {
  const out = await node(
    "core.mjs",
    `import { createApi, createSocket, KarlError, readProfile, SOCKET_DEFAULTS } from "@karl-app/client";
import { createFakeSocket } from "@karl-app/client/testing";
const fake = createFakeSocket();
fake.answer("get-profile", () => ({ ok: true, data: { username: "ada" } }));
const profile = readProfile(await createApi(fake.socket).getProfile());
const offline = createSocket("http://127.0.0.1:9", { autoConnect: false });
const err = await createApi(offline).logout().catch((e) => e);
console.log(JSON.stringify({ profile, code: err instanceof KarlError && err.code, transports: SOCKET_DEFAULTS.transports }));
`,
  );
  assert.deepEqual(JSON.parse(out), { profile: { username: "ada" }, code: "not-connected", transports: ["websocket"] });
  await assert.rejects(node("react.mjs", `import "@karl-app/client/react";\n`), /Cannot find package 'react'/);
});

test("Node ESM imports the react entry once React is installed", async () => {
  await npmInstall(`react@${versions.react}`);
  const out = await node(
    "react.mjs",
    `import { KarlProvider, useApi, useKarlSession, useSocket, useSocketEvent, createSocket } from "@karl-app/client/react";
console.log([KarlProvider, useApi, useKarlSession, useSocket, useSocketEvent, createSocket].map((f) => typeof f).join(","));
`,
  );
  assert.equal(out, Array(6).fill("function").join(","));
});

test("tsc with nodenext resolution type-checks a consumer of the three entries", async () => {
  writeFileSync(
    join(project, "consumer.ts"),
    `import { createSocket, type Profile } from "@karl-app/client";
import { KarlProvider, useApi, type UseSocketOptions } from "@karl-app/client/react";
import { createFakeSocket, type FakeCall } from "@karl-app/client/testing";
export const options: UseSocketOptions = { url: "https://karl.example" };
export const socket = createSocket(options.url);
export const parts = [KarlProvider, useApi, createFakeSocket] as const;
export type Parts = [Profile, FakeCall<"get-profile">["payload"]];
// @ts-expect-error the API is typed through the package's declarations
export const wrong: Profile = { name: "ada" };
`,
  );
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "ES2022",
        lib: ["ES2022"],
        types: [],
        strict: true,
        noEmit: true,
        skipLibCheck: true, // socket.io-client's declarations need DOM or Node types; the package's do not
        paths: { react: [join(consumerModules, "@types", "react", "index.d.ts")] },
      },
      files: ["consumer.ts"],
    }),
  );
  await exec(process.execPath, [join(consumerModules, "typescript", "bin", "tsc"), "-p", project]);
});

const appSource = `import { createElement } from "react";
import { KarlProvider, useApi, useSocketEvent, useSocketStatus } from "@karl-app/client/react";
import { readProfile } from "@karl-app/client";

function Screen() {
  const api = useApi();
  const status = useSocketStatus();
  useSocketEvent("new-user-connected", ({ username }) => console.log(username));
  return createElement("p", { onClick: () => api.getProfile().then(readProfile) }, status.state);
}

export function App() {
  return createElement(KarlProvider, { url: "https://karl.example" }, createElement(Screen));
}
`;

test("Metro, with React Native's configuration, bundles an app importing the installed package", async (t) => {
  const app = join(project, "app.js");
  writeFileSync(app, appSource);
  const out = join(project, "metro.bundle.js");
  const started = Date.now();
  await bundle({ entry: app, out, projectRoot: project, nodeModules: [join(project, "node_modules"), consumerModules] });
  t.diagnostic(`Metro bundle: ${readFileSync(out).length} bytes in ${Date.now() - started} ms`);
  const code = readFileSync(out, "utf8");
  assert.ok(code.includes("function KarlProvider") && code.includes("function readProfile"), "the package is not in the bundle");
});

test("Vite bundles the same app importing the installed package", async (t) => {
  writeFileSync(join(project, "app.js"), appSource);
  const started = Date.now();
  await build({
    root: project,
    configFile: false,
    logLevel: "silent",
    build: { outDir: join(project, "vite-out"), minify: false, lib: { entry: join(project, "app.js"), formats: ["es"], fileName: "app" } },
  });
  const code = readFileSync(join(project, "vite-out", "app.js"), "utf8");
  t.diagnostic(`Vite bundle: ${code.length} bytes in ${Date.now() - started} ms`);
  assert.ok(code.includes("function KarlProvider") && code.includes("function readProfile"), "the package is not in the bundle");
});
