// The generated TypeScript as React Native's toolchain sees it: Metro bundles an app
// (rn/App.tsx) that imports the package's source, and tsc checks it against
// react-native's own types without the DOM. The old ".js" import style is shown to fail
// with Metro, so that a regression of the import style fails here.
import assert from "node:assert/strict";
import { cpSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { bundle, consumers, exec, repo, tempDir, tsclient } from "./support.mjs";

test("Metro bundles a React Native app importing the generated index, the hooks and useKarlSession", async (t) => {
  const { dir, cleanup } = tempDir("metro");
  t.after(cleanup);
  const out = join(dir, "index.android.bundle");
  const started = Date.now();
  await bundle({ entry: join(consumers, "rn", "App.tsx"), out, watchFolders: [join(tsclient, "src")] });
  const code = readFileSync(out, "utf8");
  t.diagnostic(`bundle: ${statSync(out).size} bytes in ${Date.now() - started} ms`);
  // The generated code is in: readers, the request machinery, the hooks and the session.
  for (const needle of ["function readSetUsername", "not connected to the server", "function KarlProvider", "function useKarlSession", "reconnect_token"]) {
    assert.ok(code.includes(needle), `the bundle lacks ${JSON.stringify(needle)}`);
  }
  // React Native itself was bundled with its preset (no JSX or TypeScript left).
  assert.match(code, /__fbBatchedBridge/);
  assert.doesNotMatch(code, /import type|: KarlSocket/);
});

test("the app type-checks against react-native's types, without the DOM", async () => {
  await exec(process.execPath, [join(consumers, "node_modules", "typescript", "bin", "tsc"), "-p", join(consumers, "rn", "tsconfig.json")]);
});

test("Metro refuses the old style: generated imports ending in .js, with only .ts files", async (t) => {
  const { dir, cleanup } = tempDir("metro-js-suffix");
  t.after(cleanup);
  const generated = join(dir, "generated");
  await exec("go", ["run", "./gen/cmd/karlgen", "generate", "--schema", "schema/karl.yaml", "--ts-out", generated, "--ts-import-suffix", ".js"], { cwd: repo });
  assert.match(readFileSync(join(generated, "index.ts"), "utf8"), /from "\.\/types\.js"/);
  const entry = join(dir, "entry.ts");
  writeFileSync(entry, 'import { createSocket } from "./generated/index";\ncreateSocket("https://karl.example");\n');
  await assert.rejects(
    bundle({ entry, out: join(dir, "out.bundle"), projectRoot: dir }),
    (err) => {
      assert.match(String(err.message), /Unable to resolve module \.\/[a-z]+\.js/);
      return true;
    },
  );

  // The same files with extensionless imports, as karlgen writes them by default, bundle.
  cpSync(generated, join(dir, "extensionless"), { recursive: true });
  await exec("go", ["run", "./gen/cmd/karlgen", "generate", "--schema", "schema/karl.yaml", "--ts-out", join(dir, "extensionless")], { cwd: repo });
  writeFileSync(entry, 'import { createSocket } from "./extensionless/index";\ncreateSocket("https://karl.example");\n');
  await bundle({ entry, out: join(dir, "out.bundle"), projectRoot: dir });
  assert.ok(readFileSync(join(dir, "out.bundle"), "utf8").includes("function createSocket"));
});
