// Builds karl-server from the repository once, and starts the server most tests share.

import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import type { TestProject } from "vitest/node";

import { startServer } from "./server";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

declare module "vitest" {
  export interface ProvidedContext {
    /** The karl-server binary built for this run. */
    karlServerBin: string;
    /** A directory for the databases of the servers tests start themselves. */
    karlTmpDir: string;
    /** The URL of the shared server. */
    karlServerUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), "karl-tsclient-"));
  const bin = join(dir, "karl-server");
  await promisify(execFile)("go", ["build", "-o", bin, "./app/cmd/karl-server"], { cwd: repoRoot });
  const server = await startServer({ bin, dir });
  project.provide("karlServerBin", bin);
  project.provide("karlTmpDir", dir);
  project.provide("karlServerUrl", server.url);
  return async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
