// Every bad input gets its code, nothing half-written is kept, and other clients notice nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, connect, call, next, PNG_DATA_URL } from "./helpers.mjs";

let server, bystander;
before(async () => {
  server = await startServer({ args: ["--max-image-bytes", "2048"] });
  bystander = await connect(server.url);
  await call(bystander, "set-username", { username: "Bystander" });
});
after(async () => { bystander.disconnect(); await server.close(); });

const invalid = (path, message) => ({ ok: false, error: { code: "invalid-payload", message, ...(path ? { path } : {}) } });

const cases = [
  ["set-username: missing field", "set-username", [{}], invalid("username", "required")],
  ["set-username: wrong type", "set-username", [{ username: 42 }], invalid("username", "expected a string, got a number")],
  ["set-username: extra nesting", "set-username", [{ username: { username: "x" } }], invalid("username", "expected a string, got an object")],
  ["set-username: string where the object belongs", "set-username", ["Alice"], invalid("", "expected an object, got a string")],
  ["set-username: no payload", "set-username", [], invalid("", "expected an object, got null")],
  ["set-username: empty after trim", "set-username", [{ username: "   " }], invalid("username", "shorter than 1 character")],
  ["set-username: too long", "set-username", [{ username: "x".repeat(33) }], invalid("username", "longer than 32 characters")],
  ["set-username: huge string within the message limit", "set-username", [{ username: "x".repeat(5000) }], invalid("username", "longer than 32 characters")],
  ["set-username: control character", "set-username", [{ username: "bad\u0007name" }], invalid("username", "does not match the pattern ^[\\p{L}\\p{M}\\p{N} _.\\-]+$")],
  ["set-username: markup", "set-username", [{ username: "<script>" }], invalid("username", "does not match the pattern ^[\\p{L}\\p{M}\\p{N} _.\\-]+$")],
  ["set-username: three arguments", "set-username", [{ username: "a" }, {}, { username: "b" }], invalid("", "expected a payload and a metadata object, got 3 arguments")],
  ["set-username: metadata that is not an object", "set-username", [{ username: "a" }, "b"], invalid("", "the argument after the payload must be a request metadata object")],
  ["join-room: wrong type", "join-room", [{ room: ["general"] }], invalid("room", "expected a string, got an array")],
  ["send-message: text missing", "send-message", [{ room: "general" }], invalid("text", "required")],
  ["send-message: text too long", "send-message", [{ room: "general", text: "x".repeat(2001) }], invalid("text", "longer than 2000 characters")],
  ["upload-profile-image: binary where a string belongs", "upload-profile-image", [{ imageBase64: new Uint8Array([137, 80, 78, 71]) }], invalid("imageBase64", "expected a string, got binary data")],
  ["unknown event", "delete-everything", [{}], { ok: false, error: { code: "unknown-event", message: "unknown event \"delete-everything\"" } }],
];

for (const [name, event, args, want] of cases) {
  test(name, async () => {
    const s = await connect(server.url);
    assert.deepEqual(await call(s, event, ...args), want);
    // Nothing was saved: the socket still has no session.
    assert.equal((await call(s, "get-profile")).error.code, "no-session");
    s.disconnect();
  });
}

test("without an ack, a failure arrives as request-error", async () => {
  const s = await connect(server.url);
  s.emit("set-username", { username: 7 });
  assert.deepEqual(await next(s, "request-error"),
    { event: "set-username", code: "invalid-payload", message: "expected a string, got a number", path: "username" });
  s.emit("no-such-event");
  assert.deepEqual(await next(s, "request-error"),
    { event: "no-such-event", code: "unknown-event", message: "unknown event \"no-such-event\"" });
  s.disconnect();
});

test("bad images get invalid-image and keep the old photo", async () => {
  const s = await connect(server.url);
  assert.equal((await call(s, "upload-profile-image", { imageBase64: PNG_DATA_URL })).error.code, "no-session");
  await call(s, "set-username", { username: "Pic" });
  assert.deepEqual(await call(s, "upload-profile-image", { imageBase64: PNG_DATA_URL }), { ok: true });
  const svg = "data:image/svg+xml;base64," + Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>").toString("base64");
  const pngAsJpeg = PNG_DATA_URL.replace("image/png", "image/jpeg");
  const notBase64 = "data:image/png;base64,@@@@";
  const tooBig = "data:image/png;base64," + Buffer.alloc(4096, 1).toString("base64");
  const truncated = PNG_DATA_URL.slice(0, 60);
  for (const [what, img] of [["svg", svg], ["type mismatch", pngAsJpeg], ["bad base64", notBase64], ["too big", tooBig], ["truncated", truncated]]) {
    const res = await call(s, "upload-profile-image", { imageBase64: img });
    assert.equal(res.ok, false, what);
    assert.equal(res.error.code, "invalid-image", `${what}: ${JSON.stringify(res)}`);
    assert.ok(res.error.message.length > 0, what);
  }
  assert.equal((await call(s, "get-profile")).data.profileImage, PNG_DATA_URL, "the saved photo is intact");
  s.disconnect();
});

test("a message over the size limit closes that connection only", async () => {
  const s = await connect(server.url);
  const closed = new Promise((ok) => s.once("disconnect", ok));
  s.emit("upload-profile-image", { imageBase64: "A".repeat(2_000_000) });
  await closed;
  assert.deepEqual(await call(bystander, "get-profile"), { ok: true, data: { username: "Bystander" } });
});

test("a flood is rate limited and others are served", async () => {
  const limited = await startServer({ args: ["--event-rate", "5", "--event-burst", "10"] });
  try {
    const s = await connect(limited.url);
    const other = await connect(limited.url);
    const answers = await Promise.all(Array.from({ length: 40 }, () => call(s, "get-profile")));
    const codes = answers.map((a) => a.error.code);
    assert.ok(codes.filter((c) => c === "rate-limited").length >= 25, codes.join(","));
    assert.ok(codes.includes("no-session"), "the burst is served");
    assert.equal((await call(other, "get-profile")).error.code, "no-session", "another socket is not limited");
    s.disconnect();
    other.disconnect();
  } finally {
    await limited.close();
  }
});
