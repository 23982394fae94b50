// StrictMode mounts, unmounts and mounts again: useSocket and KarlProvider must end with
// one live socket.

import { renderHook, waitFor } from "@testing-library/react";
import { StrictMode, type ReactNode } from "react";
import type { Socket } from "socket.io-client";
import { expect, inject, test, vi } from "vitest";

import { KarlProvider, useKarlSocket, useSocket, useSocketStatus } from "../src/react";

// Count the sockets createSocket makes.
vi.mock("socket.io-client", async (importOriginal) => {
  const mod = await importOriginal<typeof import("socket.io-client")>();
  return { ...mod, io: vi.fn(mod.io) };
});
const { io } = await import("socket.io-client");

test("under StrictMode one socket is live, and it is the one the hook returns", async () => {
  const { result, unmount } = renderHook(() => useSocket({ url: inject("karlServerUrl") }), { wrapper: StrictMode });
  await waitFor(() => expect(result.current.status.state).toBe("connected"), { timeout: 8000 });

  const created = vi.mocked(io).mock.results.map((r) => r.value as Socket);
  expect(created).toHaveLength(2); // StrictMode ran the effect twice
  const live = created.filter((s) => s.active);
  expect(live).toHaveLength(1);
  expect(live[0]).toBe(result.current.socket);
  expect(created.filter((s) => s.connected)).toHaveLength(1);

  unmount();
  expect(created.filter((s) => s.active)).toHaveLength(0);
});

test("under StrictMode a KarlProvider has one live socket, the one its hooks see", async () => {
  vi.mocked(io).mockClear();
  const wrapper = ({ children }: { children: ReactNode }) => (
    <StrictMode>
      <KarlProvider url={inject("karlServerUrl")}>{children}</KarlProvider>
    </StrictMode>
  );
  const { result, unmount } = renderHook(() => ({ socket: useKarlSocket(), status: useSocketStatus() }), { wrapper });
  await waitFor(() => expect(result.current.status.state).toBe("connected"), { timeout: 8000 });

  const created = vi.mocked(io).mock.results.map((r) => r.value as Socket);
  const live = created.filter((s) => s.active);
  expect(live).toHaveLength(1);
  expect(live[0]).toBe(result.current.socket);

  unmount();
  expect(created.filter((s) => s.active)).toHaveLength(0);
});
