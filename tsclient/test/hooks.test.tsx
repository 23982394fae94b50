// useSocket and useSocketEvent against a real karl-server.

import { act, render, renderHook, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, inject, test, vi } from "vitest";

import {
  createApi,
  useSocket,
  useSocketEvent,
  ValidationError,
  type KarlSocket,
  type NewUserConnected,
} from "../src/react";
import { connect, FAST_RECONNECT, open, uniqueName } from "./support/helpers";
import { startServer, type RunningServer } from "./support/server";

const url = () => inject("karlServerUrl");
const wait = { timeout: 8000 };

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function ownServer(args: string[] = []): Promise<RunningServer> {
  const srv = await startServer({ bin: inject("karlServerBin"), dir: inject("karlTmpDir"), args });
  servers.push(srv);
  return srv;
}

/** announce makes the server send new-user-connected to every socket. */
async function announce(name = uniqueName()): Promise<string> {
  const socket = await connect(url());
  await createApi(socket).setUsername({ username: name });
  return name;
}

describe("useSocket", () => {
  test("connects, exposes the typed API, and closes the socket on unmount", async () => {
    const { result, unmount } = renderHook(() => useSocket({ url: url() }));
    expect(result.current.status.state).toBe("connecting");
    await waitFor(() => expect(result.current.status.state).toBe("connected"), wait);
    const { socket, api } = result.current;
    if (!socket || !api) throw new Error("no socket");
    await api.setUsername({ username: uniqueName() });
    expect((await api.getProfile()).username).toMatch(/^user-/);

    unmount();
    expect(socket.connected).toBe(false);
    expect(socket.active).toBe(false);
  });

  test("uses the seed's reconnection defaults, over WebSocket only", async () => {
    const { result } = renderHook(() => useSocket({ url: url() }));
    await waitFor(() => expect(result.current.socket).not.toBeNull());
    const manager = result.current.socket!.io;
    expect(manager.reconnectionDelay()).toBe(1000);
    expect(manager.reconnectionDelayMax()).toBe(5000);
    expect(manager.reconnectionAttempts()).toBe(10);
    expect(manager.opts.transports).toEqual(["websocket"]);
  });

  test("reports reconnecting with the attempt number, then connected, across a server restart", async () => {
    const srv = await ownServer();
    const { result } = renderHook(() => useSocket({ url: srv.url, ...FAST_RECONNECT }));
    await waitFor(() => expect(result.current.status.state).toBe("connected"), wait);
    const socket = result.current.socket;

    await srv.kill();
    await waitFor(() => expect(result.current.status).toMatchObject({ state: "reconnecting", attempt: 2 }), wait);
    expect(result.current.status.error).toBeInstanceOf(Error);

    servers.push(await startServer({ bin: inject("karlServerBin"), dir: inject("karlTmpDir"), port: srv.port, db: srv.db }));
    // A restarted server holds no session to recover.
    await waitFor(() => expect(result.current.status).toEqual({ state: "connected", attempt: 0, error: null, recovered: false }), wait);
    expect(result.current.socket).toBe(socket); // the same socket reconnected
  });

  test("reports failed when every attempt failed", async () => {
    const srv = await ownServer();
    await srv.stop();
    const { result } = renderHook(() =>
      useSocket({ url: srv.url, reconnectionAttempts: 2, reconnectionDelay: 50, reconnectionDelayMax: 50 }),
    );
    await waitFor(() => expect(result.current.status.state).toBe("failed"), wait);
  });

  test("reports failed with the server's code when it refuses the handshake", async () => {
    const { result } = renderHook(() => useSocket({ url: url(), auth: { token: "t".repeat(300) } }));
    await waitFor(() => expect(result.current.status.state).toBe("failed"), wait);
    const error = result.current.status.error as Error & { data?: unknown };
    expect(error.data).toEqual({ code: "invalid-payload", message: "longer than 256 characters", path: "token" });
  });

  test("calls the auth provider on every connect, so the latest token is sent", async () => {
    // Without recovery: a recovered socket keeps its session and Connect does not read the token.
    const srv = await ownServer(["--recovery-window", "0"]);
    let token = "";
    const provider = vi.fn(() => (token ? { token } : {}));
    const { result } = renderHook(() => useSocket({ url: srv.url, auth: provider }));
    await waitFor(() => expect(result.current.status.state).toBe("connected"), wait);
    expect(provider).toHaveBeenCalledTimes(1);

    const socket = result.current.socket!;
    const saved = new Promise<string>((resolve) => socket.once("username-saved", (p) => resolve(p.token)));
    await result.current.api!.setUsername({ username: uniqueName() });
    token = await saved;

    const back = new Promise((resolve) => socket.once("reconnected", resolve));
    act(() => {
      socket.io.engine.close(); // the network drops; the manager reconnects by itself
    });
    expect(await back).toMatchObject({ username: expect.stringMatching(/^user-/) });
    expect(provider).toHaveBeenCalledTimes(2);
  });
});

describe("useSocketEvent", () => {
  function Listener({ socket, onMessage }: { socket: KarlSocket | null; onMessage?: () => void }) {
    useSocketEvent(socket, "new-message", () => onMessage?.());
    useSocketEvent(socket, "new-user-connected", () => undefined);
    return null;
  }

  test("removes exactly its listeners: 100 mounts and unmounts leave the socket as they found it", () => {
    const socket = open(url());
    const mine = () => undefined;
    socket.on("new-message", mine);
    const before = socket.listeners("new-message").length;
    for (let i = 0; i < 100; i++) {
      const { unmount } = render(<Listener socket={socket} />);
      expect(socket.listeners("new-message")).toHaveLength(before + 1);
      unmount();
    }
    expect(socket.listeners("new-message")).toHaveLength(before);
    expect(socket.listeners("new-user-connected")).toHaveLength(0);
    expect(socket.listeners("new-message")).toContain(mine);
  });

  test("subscribes once and calls the latest handler", async () => {
    const socket = await connect(url());
    const calls: string[] = [];
    const { rerender } = renderHook(
      ({ tag }: { tag: string }) => useSocketEvent(socket, "new-user-connected", (p: NewUserConnected) => calls.push(`${tag}:${p.username}`)),
      { initialProps: { tag: "first" } },
    );
    for (const tag of ["second", "third"]) rerender({ tag });
    expect(socket.listeners("new-user-connected")).toHaveLength(1);

    const name = await announce();
    await waitFor(() => expect(calls).toEqual([`third:${name}`]), wait);
  });

  test("moves its listener when the socket changes", () => {
    const a = open(url());
    const b = open(url());
    const { rerender, unmount } = render(<Listener socket={a} />);
    expect(a.listeners("new-message")).toHaveLength(1);
    rerender(<Listener socket={b} />);
    expect(a.listeners("new-message")).toHaveLength(0);
    expect(b.listeners("new-message")).toHaveLength(1);
    rerender(<Listener socket={null} />);
    expect(b.listeners("new-message")).toHaveLength(0);
    unmount();
  });

  test("gives the handler checked payloads only; the others go to onInvalid", () => {
    const socket = open(url());
    const handler = vi.fn();
    const onInvalid = vi.fn();
    renderHook(() => useSocketEvent(socket, "username-saved", handler, { onInvalid }));
    const [listener] = socket.listeners("username-saved");

    const bad = { token: "too-short", username: "Alice", expiresAt: 1 };
    act(() => listener!(bad as never));
    expect(handler).not.toHaveBeenCalled();
    expect(onInvalid).toHaveBeenCalledTimes(1);
    const [error, payload] = onInvalid.mock.calls[0]!;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ path: "token", reason: "shorter than 43 characters" });
    expect(payload).toBe(bad);

    const good = { token: "a".repeat(43), username: " Alice ", expiresAt: 1_700_000_000_000, extra: 1 };
    act(() => listener!(good as never));
    expect(handler).toHaveBeenCalledWith({ token: "a".repeat(43), username: "Alice", expiresAt: 1_700_000_000_000 });
  });

  test("without onInvalid, an invalid payload is dropped with a warning", () => {
    const socket = open(url());
    const handler = vi.fn();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    renderHook(() => useSocketEvent(socket, "new-message", handler));
    act(() => socket.listeners("new-message")[0]!({ room: "r", username: "u", text: "t", sentAt: 1.5 }));
    expect(handler).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('"new-message"'));
    expect(warn.mock.calls[0]![0]).toContain("sentAt");
    warn.mockRestore();
  });
});
