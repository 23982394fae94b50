// useKarlSession: the seed's client flows against a real karl-server.

import { act, cleanup, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, describe, expect, inject, test } from "vitest";

import {
  KarlError,
  KarlSessionProvider,
  memoryStorage,
  TOKEN_KEY,
  useApi,
  useKarlSession,
  useKarlSocket,
  useSession,
  useSocketEvent,
  useSocketStatus,
  type KarlStorage,
} from "../src/react";
import { FAST_RECONNECT, nextEvent, sleep, uniqueName } from "./support/helpers";
import { pngDataURL } from "./support/png";
import { startServer, type RunningServer } from "./support/server";

const wait = { timeout: 8000 };

const servers: RunningServer[] = [];
afterEach(async () => {
  cleanup(); // unmount (and close the sockets) before the servers go away
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function ownServer(args: string[] = []): Promise<RunningServer> {
  const srv = await startServer({ bin: inject("karlServerBin"), dir: inject("karlTmpDir"), args });
  servers.push(srv);
  return srv;
}

/** mount renders useKarlSession and waits until it is connected. */
async function mount(storage: KarlStorage, url = inject("karlServerUrl")) {
  const hook = renderHook(() => useKarlSession({ url, storage, ...FAST_RECONNECT }));
  await waitFor(() => expect(hook.result.current.status.state).toBe("connected"), wait);
  return hook;
}

describe("useKarlSession", () => {
  test("saves the username and stores the token under reconnect_token", async () => {
    const storage = memoryStorage();
    const { result } = await mount(storage);
    expect(result.current).toMatchObject({ username: null, profileImage: null, tokenExpired: false, lastError: null });

    const name = uniqueName("alice");
    await act(() => result.current.setUsername(name));
    expect(result.current.username).toBe(name);
    expect(await storage.getItem(TOKEN_KEY)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test("uploads a photo, and a new visit restores name and photo with the stored token", async () => {
    const storage = memoryStorage();
    const first = await mount(storage);
    const name = uniqueName("bob");
    const photo = pngDataURL(6, 6);
    await act(() => first.result.current.setUsername(name));
    await act(() => first.result.current.uploadProfileImage(photo));
    expect(first.result.current.profileImage).toBe(photo);
    first.unmount();

    const second = renderHook(() => useKarlSession({ url: inject("karlServerUrl"), storage }));
    await waitFor(() => expect(second.result.current.username).toBe(name), wait);
    expect(second.result.current.profileImage).toBe(photo);
    expect(second.result.current.tokenExpired).toBe(false);
  });

  test("a raw base64 photo is shown as the data URL the server stored", async () => {
    const { result } = await mount(memoryStorage());
    await act(() => result.current.setUsername(uniqueName()));
    const photo = pngDataURL(3, 3);
    await act(() => result.current.uploadProfileImage(photo.slice(photo.indexOf(",") + 1)));
    expect(result.current.profileImage).toBe(photo);
  });

  test("reconnects by itself after a server restart, re-sends the token, and receives reconnected", async () => {
    const srv = await ownServer();
    const storage = memoryStorage();
    const { result } = await mount(storage, srv.url);
    const name = uniqueName("carol");
    await act(() => result.current.setUsername(name)); // the token exists only from now on
    const socket = result.current.socket!;

    await srv.stop();
    await waitFor(() => expect(result.current.status.state).toBe("reconnecting"), wait);
    const back = nextEvent(socket, "reconnected", 8000);
    servers.push(await startServer({ bin: inject("karlServerBin"), dir: inject("karlTmpDir"), port: srv.port, db: srv.db }));

    expect(await back).toEqual({ username: name });
    await waitFor(() => expect(result.current.status.state).toBe("connected"), wait);
    expect(result.current.username).toBe(name);
  });

  test("an expired token: token-expired, the storage is cleared, the profile reset", async () => {
    // Without recovery: a socket recovered within the window keeps its session, and the
    // expired token is refused on its next use instead (get-profile, a rename, a photo).
    const srv = await ownServer(["--token-ttl", "2s", "--recovery-window", "0"]);
    const storage = memoryStorage();
    const { result } = await mount(storage, srv.url);
    await act(() => result.current.setUsername(uniqueName("dave")));
    expect(await storage.getItem(TOKEN_KEY)).not.toBeNull();

    await sleep(2100);
    const socket = result.current.socket!;
    const expired = nextEvent(socket, "token-expired", 8000);
    act(() => {
      socket.io.engine.close(); // the network drops; the session reconnects with the old token
    });
    await expired;
    await waitFor(() => expect(result.current.tokenExpired).toBe(true), wait);
    expect(result.current.username).toBeNull();
    expect(await storage.getItem(TOKEN_KEY)).toBeNull();

    const again = uniqueName("dave-again");
    await act(() => result.current.setUsername(again));
    expect(result.current).toMatchObject({ username: again, tokenExpired: false });
  });

  test("logout forgets the token here and on the server", async () => {
    const storage = memoryStorage();
    const { result } = await mount(storage);
    await act(() => result.current.setUsername(uniqueName()));
    await act(() => result.current.logout());
    expect(result.current.username).toBeNull();
    expect(await storage.getItem(TOKEN_KEY)).toBeNull();
  });

  test("keeps the last error of a call, and a call that succeeds clears it", async () => {
    const { result } = await mount(memoryStorage());
    const refused = await act(() => result.current.uploadProfileImage(pngDataURL()).catch((e: unknown) => e));
    expect(refused).toBeInstanceOf(KarlError);
    expect(result.current.lastError).toMatchObject({ code: "no-session", event: "upload-profile-image" });

    const invalid = await act(() => result.current.setUsername("").catch((e: unknown) => e));
    expect(invalid).toMatchObject({ code: "invalid-payload", path: "username" });
    expect(result.current.lastError).toBe(invalid);

    await act(() => result.current.setUsername(uniqueName()));
    expect(result.current.lastError).toBeNull();
  });

  test("a stored token the server does not know: token-expired on the first connect", async () => {
    const storage = memoryStorage({ [TOKEN_KEY]: "x".repeat(43) });
    const { result } = renderHook(() => useKarlSession({ url: inject("karlServerUrl"), storage }));
    await waitFor(() => expect(result.current.tokenExpired).toBe(true), wait);
    expect(await storage.getItem(TOKEN_KEY)).toBeNull();
  });
});

describe("KarlSessionProvider", () => {
  test("screens share one session and its socket; a stored token restores the profile on the next visit", async () => {
    const storage = memoryStorage();
    const url = inject("karlServerUrl");
    const wrapper = ({ children }: { children: ReactNode }) => (
      <KarlSessionProvider url={url} storage={storage} {...FAST_RECONNECT}>
        {children}
      </KarlSessionProvider>
    );
    const saved: string[] = [];
    const screens = () => {
      const session = useSession(); // the profile screen
      useSocketEvent("username-saved", ({ username }) => saved.push(username)); // another screen
      return { session, socket: useKarlSocket(), status: useSocketStatus(), api: useApi() };
    };
    const first = renderHook(screens, { wrapper });
    await waitFor(() => expect(first.result.current.status.state).toBe("connected"), wait);
    expect(first.result.current.socket).toBe(first.result.current.session.socket);

    const name = uniqueName("shared");
    await act(() => first.result.current.session.setUsername(name));
    expect(first.result.current.session.username).toBe(name);
    expect(saved).toEqual([name]);
    expect((await first.result.current.api.getProfile()).username).toBe(name);
    first.unmount();

    const second = renderHook(screens, { wrapper });
    await waitFor(() => expect(second.result.current.session.username).toBe(name), wait);
  });

  test("useSession outside a provider says what is missing", () => {
    expect(() => renderHook(() => useSession())).toThrow("useSession() needs a <KarlSessionProvider> above it");
  });
});
