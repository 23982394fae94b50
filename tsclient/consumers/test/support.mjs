// Helpers of the consumer tests: Metro with React Native's configuration and Babel
// preset, tsc, npm, and temporary folders.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { getDefaultConfig, mergeConfig } from "@react-native/metro-config";
import Metro from "metro";

export const consumers = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const tsclient = resolve(consumers, "..");
export const repo = resolve(tsclient, "..");
export const consumerModules = join(consumers, "node_modules");

const run = promisify(execFile);

/** exec runs a command and returns its output; a failure carries stdout and stderr. */
export async function exec(file, args, options = {}) {
  try {
    return await run(file, args, { maxBuffer: 64 << 20, ...options });
  } catch (err) {
    err.message += `\n${err.stdout ?? ""}\n${err.stderr ?? ""}`;
    throw err;
  }
}

/** tempDir returns a new temporary folder, removed by the returned cleanup. */
export function tempDir(name) {
  const dir = mkdtempSync(join(tmpdir(), `karl-${name}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * bundle bundles entry for Android with Metro as a React Native app does: the
 * configuration of @react-native/metro-config (React Native's Babel preset through
 * @react-native/metro-babel-transformer, its resolver conditions and polyfills), a
 * production build. Packages come from nodeModules only, so that the app has one React.
 */
export async function bundle({ entry, out, projectRoot = consumers, watchFolders = [], nodeModules = [consumerModules] }) {
  const app = mergeConfig(getDefaultConfig(projectRoot), {
    projectRoot,
    watchFolders: [...watchFolders, ...nodeModules],
    cacheStores: [], // no cache between runs: each run proves the resolution anew
    resolver: { nodeModulesPaths: nodeModules, disableHierarchicalLookup: true, useWatchman: false },
    reporter: { update() {} },
  });
  // As the metro.config.js of an app would be: merged over Metro's own defaults.
  const config = await Metro.loadConfig({ cwd: projectRoot }, app);
  await Metro.runBuild(config, { entry, bundleOut: out, platform: "android", dev: false, minify: false, sourceMap: false });
}
