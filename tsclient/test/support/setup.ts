// Unmount what renderHook mounted after every test: without vitest globals,
// @testing-library/react cannot register its own cleanup, and a hook left mounted
// keeps its socket, whose late events would update React after the test
// environment is gone ("window is not defined").
import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

afterEach(() => {
  cleanup();
});
