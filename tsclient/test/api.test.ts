// Every KARL event and every typed error, through the generated API, against a real
// karl-server.

import { describe, expect, inject, test } from "vitest";

import {
  createApi,
  createSocket,
  isKarlError,
  KarlError,
  readNewMessage,
  readProfile,
  readUsernameSaved,
  type Api,
  type KarlSocket,
} from "../src/index";
import { connect, nextEvent, open, sleep, uniqueName, untyped } from "./support/helpers";
import { pngDataURL } from "./support/png";

const url = () => inject("karlServerUrl");

/** session connects and saves a username. */
async function session(name = uniqueName()): Promise<{ socket: KarlSocket; api: Api; name: string; token: string }> {
  const socket = await connect(url());
  const api = createApi(socket);
  const saved = nextEvent(socket, "username-saved");
  await api.setUsername({ username: name });
  const { token } = readUsernameSaved(await saved);
  return { socket, api, name, token };
}

/** rejection returns the KarlError a call rejects with. */
async function rejection(call: Promise<unknown>): Promise<KarlError> {
  const err = await call.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof KarlError)) throw new Error(`expected a KarlError, got ${String(err)}`);
  return err;
}

describe("set-username", () => {
  test("answers ok, sends username-saved with a token to the socket and new-user-connected to all", async () => {
    const other = await connect(url());
    const socket = await connect(url());
    const api = createApi(socket);
    const name = uniqueName("alice");
    const saved = nextEvent(socket, "username-saved");
    const announced = nextEvent(other, "new-user-connected");

    await expect(api.setUsername({ username: `  ${name}  ` })).resolves.toBeUndefined();

    const payload = readUsernameSaved(await saved);
    expect(payload.username).toBe(name); // trimmed
    expect(payload.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(payload.expiresAt).toBeGreaterThan(Date.now() + 6 * 24 * 3600 * 1000); // a week, in Unix ms
    expect(await announced).toEqual({ username: name });
  });

  test("renaming keeps the token", async () => {
    const { socket, api, token } = await session();
    const saved = nextEvent(socket, "username-saved");
    await api.setUsername({ username: uniqueName("renamed") });
    expect(readUsernameSaved(await saved).token).toBe(token);
  });

  test("a payload the schema refuses is not sent: invalid-payload with its path", async () => {
    const socket = await connect(url());
    const sent: string[] = [];
    socket.onAnyOutgoing((event: string) => sent.push(event));
    const api = createApi(socket);

    const empty = await rejection(api.setUsername({ username: "   " }));
    expect(empty).toMatchObject({ code: "invalid-payload", path: "username", event: "set-username" });
    expect(empty.message).toBe("shorter than 1 character");

    const symbols = await rejection(api.setUsername({ username: "<script>" }));
    expect(symbols).toMatchObject({ code: "invalid-payload", path: "username" });
    expect(symbols.message).toMatch(/does not match the pattern/);

    // 32 characters, counted in code points: 32 emoji-free letters of any script pass,
    // 33 do not, and astral characters count once.
    await expect(api.setUsername({ username: "é".repeat(32) })).resolves.toBeUndefined();
    expect(await rejection(api.setUsername({ username: "é".repeat(33) }))).toMatchObject({ code: "invalid-payload", message: "longer than 32 characters" });
    expect(sent).toEqual(["set-username"]); // only the valid one left
  });

  test("the server checks too: invalid-payload with its path, by ack and by request-error", async () => {
    const socket = untyped(await connect(url()));
    const answer = await socket.timeout(5000).emitWithAck("set-username", { username: 42 });
    expect(answer).toEqual({ ok: false, error: { code: "invalid-payload", message: "expected a string, got a number", path: "username" } });

    const reported = nextEvent(socket as unknown as KarlSocket, "request-error");
    socket.emit("set-username", { username: "" });
    expect(await reported).toEqual({ event: "set-username", code: "invalid-payload", message: "shorter than 1 character", path: "username" });
  });
});

describe("upload-profile-image", () => {
  test("saves a PNG: ok, profile-image-saved, and get-profile returns it", async () => {
    const { socket, api, name } = await session();
    const image = pngDataURL(8, 8);
    const saved = nextEvent(socket, "profile-image-saved");
    await api.uploadProfileImage({ imageBase64: image });
    await saved;
    const profile = await api.getProfile();
    expect(profile).toEqual({ username: name, profileImage: image });
  });

  test("accepts raw base64 and returns a data URL", async () => {
    const { api } = await session();
    const image = pngDataURL(2, 2);
    await api.uploadProfileImage({ imageBase64: image.slice("data:image/png;base64,".length) });
    expect((await api.getProfile()).profileImage).toBe(image);
  });

  test("fails with no-session before a username is saved", async () => {
    const api = createApi(await connect(url()));
    const err = await rejection(api.uploadProfileImage({ imageBase64: pngDataURL() }));
    expect(err.code).toBe("no-session");
    expect(err.message).toBe("Save a username first.");
    expect(isKarlError(err, "upload-profile-image")).toBe(true);
  });

  test("fails with invalid-image for what is not a photo", async () => {
    const { api } = await session();
    const text = `data:image/png;base64,${Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>").toString("base64")}`;
    const err = await rejection(api.uploadProfileImage({ imageBase64: text }));
    expect(err.code).toBe("invalid-image");
    expect(err.message).not.toBe("");
  });

  test("fails with invalid-image for a photo too large", async () => {
    const { api } = await session();
    const err = await rejection(api.uploadProfileImage({ imageBase64: pngDataURL(3000, 10) }));
    expect(err.code).toBe("invalid-image");
  });
});

describe("get-profile", () => {
  test("replies with the profile, checked against the schema", async () => {
    const { api, name } = await session();
    const profile = await api.getProfile();
    expect(profile).toEqual({ username: name });
    expect(readProfile(profile)).toEqual(profile);
  });

  test("fails with no-session", async () => {
    const api = createApi(await connect(url()));
    expect((await rejection(api.getProfile())).code).toBe("no-session");
  });
});

describe("logout", () => {
  test("revokes the token: the socket continues as a new user, the token is refused", async () => {
    const { api, token } = await session();
    await api.logout();
    expect((await rejection(api.getProfile())).code).toBe("no-session");
    expect((await rejection(api.logout())).code).toBe("no-session");

    const again = open(url(), { auth: { token } });
    const expired = nextEvent(again, "token-expired");
    again.connect();
    await expired;
  });

  test("a valid token is welcomed back with reconnected", async () => {
    const { api, name, token } = await session();
    const image = pngDataURL(5, 5);
    await api.uploadProfileImage({ imageBase64: image });
    const socket = open(url(), { auth: () => ({ token }) });
    const back = nextEvent(socket, "reconnected");
    socket.connect();
    expect(await back).toEqual({ username: name, profileImage: image });
  });
});

describe("rooms", () => {
  test("join-room, send-message to the room (sender included), typing to the others", async () => {
    const room = uniqueName("room");
    const alice = await session(uniqueName("alice"));
    const bob = await session(uniqueName("bob"));
    const outsider = await session();
    await alice.api.joinRoom({ room });
    await bob.api.joinRoom({ room: `  ${room} ` }); // trimmed like the server does

    const toAlice = nextEvent(alice.socket, "new-message");
    const toBob = nextEvent(bob.socket, "new-message");
    const outsiderGot = nextEvent(outsider.socket, "new-message", 500).catch(() => "nothing");
    const before = Date.now();
    await alice.api.sendMessage({ room, text: "hello 👋" });
    const message = readNewMessage(await toBob);
    expect(message).toMatchObject({ room, username: alice.name, text: "hello 👋" });
    expect(message.sentAt).toBeGreaterThanOrEqual(before - 1000);
    expect(await toAlice).toEqual(await toBob);
    expect(await outsiderGot).toBe("nothing");

    const typingToBob = nextEvent(bob.socket, "user-typing");
    const typingToAlice = nextEvent(alice.socket, "user-typing", 500).catch(() => "nothing");
    await alice.api.typing({ room });
    expect(await typingToBob).toEqual({ room, username: alice.name });
    expect(await typingToAlice).toBe("nothing");

    await bob.api.leaveRoom({ room });
    const err = await rejection(bob.api.sendMessage({ room, text: "still here?" }));
    expect(err.code).toBe("not-in-room");
  });

  test("leave-room and send-message outside the room fail with not-in-room", async () => {
    const { api } = await session();
    expect((await rejection(api.leaveRoom({ room: "nowhere" }))).code).toBe("not-in-room");
    expect((await rejection(api.sendMessage({ room: "nowhere", text: "hi" }))).code).toBe("not-in-room");
    expect((await rejection(api.typing({ room: "nowhere" }))).code).toBe("not-in-room");
  });

  test("join-room, send-message and typing need a session", async () => {
    const api = createApi(await connect(url()));
    expect((await rejection(api.joinRoom({ room: "lobby" }))).code).toBe("no-session");
    expect((await rejection(api.sendMessage({ room: "lobby", text: "hi" }))).code).toBe("no-session");
    expect((await rejection(api.typing({ room: "lobby" }))).code).toBe("no-session");
  });

  test("a message too long is refused before it is sent", async () => {
    const { api } = await session();
    const err = await rejection(api.sendMessage({ room: "lobby", text: "x".repeat(2001) }));
    expect(err).toMatchObject({ code: "invalid-payload", path: "text", message: "longer than 2000 characters" });
  });
});

describe("the wire contract", () => {
  test("an event the schema does not have: unknown-event, by ack and by request-error", async () => {
    const socket = untyped(await connect(url()));
    const answer = await socket.timeout(5000).emitWithAck("no-such-event", {});
    expect(answer).toEqual({ ok: false, error: { code: "unknown-event", message: 'unknown event "no-such-event"' } });

    const reported = nextEvent(socket as unknown as KarlSocket, "request-error");
    socket.emit("no-such-event");
    expect(await reported).toMatchObject({ event: "no-such-event", code: "unknown-event" });
  });

  test("unknown fields are ignored", async () => {
    const { socket, name } = await session();
    const answer = await untyped(socket).timeout(5000).emitWithAck("set-username", { username: name, extra: true });
    expect(answer).toEqual({ ok: true });
  });

  test("a call while not connected: not-connected at once, and nothing is buffered to send later", async () => {
    // Nothing listens on port 9. socket.io-client would buffer the emit and send it on a
    // later connection, after the caller saw a timeout (and maybe retried): refused instead.
    const socket = createSocket("http://127.0.0.1:9", { reconnection: false });
    try {
      const started = Date.now();
      const err = await rejection(createApi(socket, { timeout: 5000 }).getProfile());
      expect(err).toMatchObject({ code: "not-connected", event: "get-profile" });
      expect(Date.now() - started).toBeLessThan(1000);
      expect(socket.sendBuffer).toHaveLength(0);
    } finally {
      socket.disconnect();
    }
  });

  test("no answer in time: timeout", async () => {
    const { socket } = await session();
    // Stand in for a lost packet: the engine drops what the socket writes (pings go on).
    const engine = socket.io.engine;
    engine.write = () => engine;
    try {
      const err = await rejection(createApi(socket, { timeout: 200 }).getProfile());
      expect(err).toMatchObject({ code: "timeout", event: "get-profile" });
    } finally {
      socket.disconnect();
    }
  });

  test("an answer that breaks the schema: invalid-response", async () => {
    const { socket, api } = await session();
    // Stand in for a server that answers get-profile with a bad photo.
    const raw = untyped(socket);
    const emit = raw.emit.bind(raw);
    raw.emit = ((event: string, ...args: unknown[]) => {
      if (event !== "get-profile") return emit(event, ...args);
      const ack = args.at(-1) as (err: Error | null, answer: unknown) => void;
      setTimeout(() => ack(null, { ok: true, data: { username: "x", profileImage: "data:text/html;base64,AAAA" } }), 1);
      return raw;
    }) as typeof raw.emit;
    const err = await rejection(api.getProfile());
    expect(err).toMatchObject({ code: "invalid-response", path: "profileImage" });
    await sleep(1);
  });
});
