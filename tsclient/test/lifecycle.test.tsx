// Connection-state recovery and the app's lifecycle (AppState, NetInfo) in the hooks,
// against a real karl-server.

import { act, renderHook, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, inject, test, vi } from "vitest";

import { createApi, useKarlSession, useSocket, type KarlSocket, type UseSocketOptions } from "../src/react";
import { memoryStorage } from "../src/index";
import { connect, uniqueName } from "./support/helpers";
import { startServer, type RunningServer } from "./support/server";

const wait = { timeout: 8000 };

type AppStateLike = NonNullable<UseSocketOptions["appState"]>;
type NetInfoLike = NonNullable<UseSocketOptions["netInfo"]>;

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function ownServer(args: string[] = []): Promise<RunningServer> {
  const srv = await startServer({ bin: inject("karlServerBin"), dir: inject("karlTmpDir"), args });
  servers.push(srv);
  return srv;
}

/** fakeAppState is React Native's AppState as the hooks see it, driven by the test. */
function fakeAppState(initial = "active") {
  const listeners = new Set<(state: string) => void>();
  const appState = {
    currentState: initial,
    addEventListener(_type: "change", listener: (state: string) => void) {
      listeners.add(listener);
      return { remove: () => listeners.delete(listener) };
    },
    set(state: string) {
      appState.currentState = state;
      listeners.forEach((l) => l(state));
    },
  };
  return appState satisfies AppStateLike;
}

/** fakeNetInfo is NetInfo as the hooks see it. */
function fakeNetInfo() {
  const listeners = new Set<(state: { isConnected: boolean | null }) => void>();
  return {
    addEventListener(listener: (state: { isConnected: boolean | null }) => void) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    set(isConnected: boolean) {
      listeners.forEach((l) => l({ isConnected }));
    },
  } satisfies NetInfoLike & { set(v: boolean): void };
}

/** drop closes the socket's transport under it, as a lost network does; the server keeps its session. */
function drop(socket: KarlSocket): Promise<void> {
  return new Promise((resolve) => {
    socket.once("disconnect", () => resolve());
    socket.io.engine.close();
  });
}

/** inRoom joins a fresh room with a named user and returns it. */
async function inRoom(socket: KarlSocket, room = uniqueName("room-")): Promise<string> {
  const api = createApi(socket);
  await api.setUsername({ username: uniqueName() });
  await api.joinRoom({ room });
  return room;
}

describe("recovery in the hooks", () => {
  test("a dropped socket comes back recovered: status.recovered, the missed messages, no onRecoveryFailed", async () => {
    const srv = await ownServer();
    const onRecoveryFailed = vi.fn();
    const { result } = renderHook(() =>
      useSocket({ url: srv.url, reconnectionDelay: 300, reconnectionDelayMax: 300, randomizationFactor: 0, onRecoveryFailed }),
    );
    await waitFor(() => expect(result.current.status.state).toBe("connected"), wait);
    expect(result.current.status.recovered).toBe(false);
    const socket = result.current.socket!;
    const room = await inRoom(socket);
    const sender = await connect(srv.url);
    await inRoom(sender, room);
    const texts: string[] = [];
    socket.on("new-message", (m) => texts.push(m.text));

    await act(() => drop(socket));
    for (let i = 0; i < 5; i++) await createApi(sender).sendMessage({ room, text: `m${i}` });
    await waitFor(() => expect(result.current.status.state).toBe("connected"), wait);
    expect(result.current.status.recovered).toBe(true);
    await waitFor(() => expect(texts).toEqual(["m0", "m1", "m2", "m3", "m4"]), wait);
    expect(onRecoveryFailed).not.toHaveBeenCalled();
  });

  test("after the server's window: status.recovered is false and onRecoveryFailed is called", async () => {
    const srv = await ownServer(["--recovery-window", "500ms"]);
    const onRecoveryFailed = vi.fn();
    const { result } = renderHook(() =>
      useSocket({ url: srv.url, reconnectionDelay: 1500, reconnectionDelayMax: 1500, randomizationFactor: 0, onRecoveryFailed }),
    );
    await waitFor(() => expect(result.current.status.state).toBe("connected"), wait);
    await inRoom(result.current.socket!);
    await act(() => drop(result.current.socket!));
    await waitFor(() => expect(onRecoveryFailed).toHaveBeenCalledTimes(1), wait);
    expect(result.current.status).toMatchObject({ state: "connected", recovered: false });
  });

  test("the session reads its profile again when recovery failed", async () => {
    const srv = await ownServer(["--recovery-window", "500ms"]);
    const storage = memoryStorage();
    const { result } = renderHook(() =>
      useKarlSession({ url: srv.url, storage, reconnectionDelay: 1500, reconnectionDelayMax: 1500, randomizationFactor: 0 }),
    );
    await waitFor(() => expect(result.current.status.state).toBe("connected"), wait);
    const name = uniqueName();
    await act(() => result.current.setUsername(name));
    const socket = result.current.socket!;
    const sent: string[] = [];
    socket.onAnyOutgoing((event: string) => sent.push(event));
    await act(() => drop(socket));
    await waitFor(() => expect(sent).toContain("get-profile"), wait);
    expect(result.current.status.recovered).toBe(false);
    expect(result.current.username).toBe(name);
  });
});

describe("app lifecycle", () => {
  test("background -> active reconnects at once, not after the backoff, and recovers", async () => {
    const srv = await ownServer();
    const appState = fakeAppState();
    const backoff = 5000;
    const { result } = renderHook(() =>
      useSocket({ url: srv.url, appState, reconnectionDelay: backoff, reconnectionDelayMax: backoff, randomizationFactor: 0 }),
    );
    await waitFor(() => expect(result.current.status.state).toBe("connected"), wait);
    const socket = result.current.socket!;
    await inRoom(socket);
    act(() => appState.set("background"));
    await act(() => drop(socket)); // the OS cut the connection while in the background
    const engineBefore = socket.io.engine;

    const activeAt = performance.now();
    act(() => appState.set("active"));
    const startedIn = performance.now() - activeAt;
    expect(socket.io.engine).not.toBe(engineBefore); // a new connection is under way
    await waitFor(() => expect(result.current.status.state).toBe("connected"), wait);
    const connectedIn = performance.now() - activeAt;
    console.log(`reconnect started ${startedIn.toFixed(1)} ms after "active", connected after ${connectedIn.toFixed(0)} ms (backoff ${backoff} ms)`);
    expect(startedIn).toBeLessThan(100);
    expect(connectedIn).toBeLessThan(1000);
    expect(result.current.status.recovered).toBe(true);
  });

  test("network back reconnects at once", async () => {
    const srv = await ownServer();
    const netInfo = fakeNetInfo();
    const { result } = renderHook(() =>
      useSocket({ url: srv.url, netInfo, reconnectionDelay: 5000, reconnectionDelayMax: 5000, randomizationFactor: 0 }),
    );
    await waitFor(() => expect(result.current.status.state).toBe("connected"), wait);
    const socket = result.current.socket!;
    act(() => netInfo.set(false));
    await act(() => drop(socket));
    const backAt = performance.now();
    act(() => netInfo.set(true));
    await waitFor(() => expect(result.current.status.state).toBe("connected"), wait);
    expect(performance.now() - backAt).toBeLessThan(1000);
  });

  test("disconnectInBackgroundAfter closes the connection in the background; active brings it back, recovered", async () => {
    const srv = await ownServer();
    const appState = fakeAppState();
    const { result } = renderHook(() =>
      useSocket({ url: srv.url, appState, disconnectInBackgroundAfter: 100, reconnectionDelay: 100, randomizationFactor: 0 }),
    );
    await waitFor(() => expect(result.current.status.state).toBe("connected"), wait);
    const socket = result.current.socket!;
    const room = await inRoom(socket);
    const sender = await connect(srv.url);
    await inRoom(sender, room);
    const texts: string[] = [];
    socket.on("new-message", (m) => texts.push(m.text));

    act(() => appState.set("background"));
    await waitFor(() => expect(socket.connected).toBe(false), wait);
    await new Promise((r) => setTimeout(r, 300));
    expect(socket.connected).toBe(false); // it does not reconnect by itself in the background
    await createApi(sender).sendMessage({ room, text: "while away" });

    act(() => appState.set("active"));
    await waitFor(() => expect(result.current.status.state).toBe("connected"), wait);
    expect(result.current.status.recovered).toBe(true);
    await waitFor(() => expect(texts).toEqual(["while away"]), wait);
  });
});
