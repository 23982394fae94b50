// Flaky networks: idempotent calls carry a key and are retried with it; calls made
// while disconnected follow their event's offline policy (karl.yaml: set-username is
// idempotent, so queued; typing drops; get-profile fails).

import { describe, expect, test } from "vitest";

import { createApi, isKarlError } from "../src/index";
import { createFakeSocket } from "../src/testing";

describe("idempotent calls", () => {
  test("a call whose answer is lost is sent again with the same key, and resolves with the retry's answer", async () => {
    const fake = createFakeSocket();
    const api = createApi(fake.socket, { timeout: 50, retries: 2 });
    const done = api.setUsername({ username: "Alice" });
    const first = await fake.nextCall("set-username");
    expect(first.idempotencyKey).toMatch(/^[A-Za-z0-9_-]{16,128}$/); // never answered: times out
    const second = await fake.nextCall("set-username");
    expect(second.idempotencyKey).toBe(first.idempotencyKey);
    expect(second.payload).toEqual({ username: "Alice" });
    second.reply();
    await expect(done).resolves.toBeUndefined();
  });

  test("each call gets its own key; retries are bounded", async () => {
    const fake = createFakeSocket();
    const api = createApi(fake.socket, { timeout: 30, retries: 1 });
    const a = api.setUsername({ username: "A" }).catch((e: unknown) => e);
    const b = api.setUsername({ username: "B" }).catch((e: unknown) => e);
    const [errA, errB] = await Promise.all([a, b]);
    expect(isKarlError(errA) && errA.code).toBe("timeout");
    expect(isKarlError(errB) && errB.code).toBe("timeout");
    const keys = fake.callsOf("set-username").map((c) => c.idempotencyKey);
    expect(keys).toHaveLength(4); // two calls, each sent twice
    expect(new Set(keys).size).toBe(2);
  });

  test("a connection lost before the answer: the call waits for the next one and retries with its key", async () => {
    const fake = createFakeSocket();
    const api = createApi(fake.socket, { timeout: 5000 });
    const done = api.sendMessage({ room: "lobby", text: "hi" });
    const first = await fake.nextCall("send-message");
    fake.drop();
    fake.connect();
    const second = await fake.nextCall("send-message");
    expect(second.idempotencyKey).toBe(first.idempotencyKey);
    second.reply();
    await expect(done).resolves.toBeUndefined();
  });

  test("events that are not idempotent send no key and are not retried", async () => {
    const fake = createFakeSocket();
    const api = createApi(fake.socket, { timeout: 30 });
    const err = await api.getProfile().catch((e: unknown) => e);
    expect(isKarlError(err) && err.code).toBe("timeout");
    expect(fake.callsOf("get-profile").map((c) => c.idempotencyKey)).toEqual([undefined]);
  });
});

describe("offline policies", () => {
  test("fail (get-profile): rejects at once with not-connected, nothing sent later", async () => {
    const fake = createFakeSocket({ connected: false });
    const api = createApi(fake.socket);
    const err = await api.getProfile().catch((e: unknown) => e);
    expect(isKarlError(err) && err.code).toBe("not-connected");
    fake.connect();
    expect(fake.callsOf("get-profile")).toHaveLength(0);
  });

  test("drop (typing): resolves without sending, and is never delivered later", async () => {
    const fake = createFakeSocket({ connected: false });
    const api = createApi(fake.socket);
    await expect(api.typing({ room: "lobby" })).resolves.toBeUndefined();
    fake.connect();
    await new Promise((r) => setTimeout(r, 20));
    expect(fake.callsOf("typing")).toHaveLength(0);
  });

  test("queue (set-username, idempotent): waits for the connection, then sends", async () => {
    const fake = createFakeSocket({ connected: false });
    const api = createApi(fake.socket);
    const done = api.setUsername({ username: "Alice" });
    await new Promise((r) => setTimeout(r, 20));
    expect(fake.callsOf("set-username")).toHaveLength(0);
    fake.connect();
    (await fake.nextCall("set-username")).reply();
    await expect(done).resolves.toBeUndefined();
  });

  test("queue gives up after offlineTimeout with not-connected", async () => {
    const fake = createFakeSocket({ connected: false });
    const api = createApi(fake.socket, { offlineTimeout: 30 });
    const err = await api.setUsername({ username: "Alice" }).catch((e: unknown) => e);
    expect(isKarlError(err) && err.code).toBe("not-connected");
  });
});

describe("traceparent", () => {
  test("the app's traceparent goes in the request metadata, after an empty payload when there is none", async () => {
    const fake = createFakeSocket();
    const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const api = createApi(fake.socket, { traceparent: () => tp });
    const done = api.getProfile();
    const call = await fake.nextCall("get-profile");
    expect(call.traceparent).toBe(tp);
    expect(call.idempotencyKey).toBeUndefined();
    call.fail("no-session", "Save a username first.");
    await expect(done).rejects.toMatchObject({ code: "no-session" });
  });
});
