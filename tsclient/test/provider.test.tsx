// KarlProvider, useApi, useSocketStatus and useSocketEvent(event, handler) against a real
// karl-server: the screens of an app share one socket.

import { act, render, renderHook, screen, waitFor } from "@testing-library/react";
import { useEffect, useState, type ReactNode } from "react";
import { describe, expect, inject, test } from "vitest";

import {
  createApi,
  KarlError,
  KarlProvider,
  useApi,
  useKarlSocket,
  useSocketEvent,
  useSocketStatus,
  type Api,
  type KarlSocket,
} from "../src/react";
import { connect, uniqueName } from "./support/helpers";

const url = () => inject("karlServerUrl");
const wait = { timeout: 8000 };

function provider(serverUrl: string) {
  return ({ children }: { children: ReactNode }) => <KarlProvider url={serverUrl}>{children}</KarlProvider>;
}

/** Screen records what one screen of the app sees of the shared socket. */
function Screen({ name, seen }: { name: string; seen: Map<string, { socket: KarlSocket | null; users: string[] }> }) {
  const socket = useKarlSocket();
  const status = useSocketStatus();
  const [users, setUsers] = useState<string[]>([]);
  useSocketEvent("new-user-connected", ({ username }) => setUsers((u) => [...u, username]));
  seen.set(name, { socket, users });
  return <p data-testid={name}>{`${status.state} ${users.join(",")}`}</p>;
}

describe("KarlProvider", () => {
  test("screens share one socket: one connection, every screen's listener called", async () => {
    const seen = new Map<string, { socket: KarlSocket | null; users: string[] }>();
    const { unmount } = render(
      <KarlProvider url={url()}>
        <Screen name="home" seen={seen} />
        <Screen name="chat" seen={seen} />
      </KarlProvider>,
    );
    await waitFor(() => expect(screen.getByTestId("home").textContent).toMatch(/^connected/), wait);
    await waitFor(() => expect(screen.getByTestId("chat").textContent).toMatch(/^connected/), wait);
    const shared = seen.get("home")?.socket;
    expect(shared).toBeTruthy();
    expect(seen.get("chat")?.socket).toBe(shared);

    const name = uniqueName("shared");
    const other = await connect(url());
    await createApi(other).setUsername({ username: name });
    await waitFor(() => expect(seen.get("home")?.users).toContain(name), wait);
    await waitFor(() => expect(seen.get("chat")?.users).toContain(name), wait);

    unmount();
    expect(shared?.connected).toBe(false);
    expect(shared?.active).toBe(false);
  });

  test("useApi exists from the first render; a call before the connection rejects at once with not-connected", async () => {
    const { result } = renderHook(() => ({ api: useApi(), status: useSocketStatus() }), { wrapper: provider(url()) });
    const first: Api = result.current.api;
    const started = Date.now();
    const err = await first.getProfile().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KarlError);
    expect(err).toMatchObject({ code: "not-connected", event: "get-profile" });
    expect(Date.now() - started).toBeLessThan(500);

    await waitFor(() => expect(result.current.status.state).toBe("connected"), wait);
    const api = result.current.api;
    await act(() => api.setUsername({ username: uniqueName() }));
    expect((await api.getProfile()).username).toMatch(/^user-/);
  });

  test("a call from a child's mount effect, before the provider's socket exists, rejects at once, whatever its policy", async () => {
    // A child's effects run before its provider's: the api is the stand-in for the socket
    // to come. set-username is idempotent, so its calls queue for a connection; there is no
    // socket to wait on, so it rejects at once (it threw a TypeError, then another 30 s later).
    const outcomes: unknown[] = [];
    let sawSocket: KarlSocket | null | undefined;
    function Child() {
      const api = useApi();
      const socket = useKarlSocket();
      useEffect(() => {
        sawSocket = socket;
        const started = Date.now();
        for (const call of [() => api.setUsername({ username: uniqueName() }), () => api.getProfile()]) {
          call().then(
            () => outcomes.push("resolved"),
            (e: unknown) => outcomes.push({ err: e, ms: Date.now() - started }),
          );
        }
      }, []); // eslint-disable-line react-hooks/exhaustive-deps
      return null;
    }
    const { unmount } = render(
      <KarlProvider url={url()}>
        <Child />
      </KarlProvider>,
    );
    await waitFor(() => expect(outcomes).toHaveLength(2), wait);
    expect(sawSocket).toBeNull();
    for (const o of outcomes) {
      expect(o).toMatchObject({ err: { code: "not-connected" } });
      expect((o as { ms: number }).ms).toBeLessThan(500);
    }
    unmount();
  });

  test("a call while reconnecting rejects with not-connected, nothing sent later", async () => {
    const { result } = renderHook(() => ({ api: useApi(), socket: useKarlSocket() }), { wrapper: provider(url()) });
    await waitFor(() => expect(result.current.socket?.connected).toBe(true), wait);
    const socket = result.current.socket!;
    act(() => {
      socket.io.engine.close(); // the network drops; the manager reconnects
    });
    await expect(result.current.api.getProfile()).rejects.toMatchObject({ code: "not-connected" });
    expect(socket.sendBuffer).toHaveLength(0);
    await waitFor(() => expect(socket.connected).toBe(true), wait);
  });

  test("the context hooks outside a provider say what is missing", () => {
    expect(() => renderHook(() => useApi())).toThrow("useApi() needs a <KarlProvider> above it");
    expect(() => renderHook(() => useSocketStatus())).toThrow("useSocketStatus() needs a <KarlProvider>");
    expect(() => renderHook(() => useSocketEvent("reconnected", () => undefined))).toThrow("needs a <KarlProvider>");
  });
});
