// Type-level tests: every line under a @ts-expect-error must keep failing to type-check
// (tsc reports an unused directive otherwise), and the lines without one must keep
// compiling. Nothing here runs.

import {
  createApi,
  createSocket,
  isKarlError,
  useSocketEvent,
  type AckResponse,
  type KarlSocket,
  type Profile,
} from "../src/react";

declare const socket: KarlSocket;
const api = createApi(socket);

export async function typedCalls(): Promise<void> {
  // What must compile.
  socket.emit("set-username", { username: "Alice" });
  socket.emit("set-username", { username: "Alice" }, (res) => {
    if (!res.ok) console.log(res.error.code, res.error.path);
  });
  socket.emit("get-profile", (res: AckResponse<Profile, "no-session" | "invalid-payload" | "unknown-event" | "internal" | "rate-limited">) => {
    if (res.ok) console.log(res.data.username, res.data.profileImage);
  });
  socket.timeout(1000).emit("get-profile", (err, res) => {
    if (!err && res.ok) console.log(res.data.username);
  });
  socket.on("username-saved", ({ token, expiresAt }) => console.log(token, expiresAt.toFixed()));
  socket.on("token-expired", () => undefined);
  socket.on("request-error", (e) => console.log(e.event, e.code, e.path));
  const profile: Profile = await api.getProfile();
  await api.setUsername({ username: profile.username });
  await api.sendMessage({ room: "lobby", text: "hello" });
  createSocket("http://localhost:3000", { auth: async () => ({ token: "t" }), reconnectionDelay: 10 });

  try {
    await api.uploadProfileImage({ imageBase64: "data:image/png;base64,AAAA" });
  } catch (err) {
    if (isKarlError(err, "upload-profile-image")) {
      const code: "no-session" | "invalid-image" | "invalid-payload" | "unknown-event" | "internal" | "rate-limited" | "idempotency-conflict" | "timeout" | "invalid-response" | "not-connected" = err.code;
      console.log(code);
    }
  }
}

export async function misuse(): Promise<void> {
  // @ts-expect-error an event the schema does not have
  socket.emit("set-usernam", { username: "Alice" });
  // @ts-expect-error a field the payload does not have
  socket.emit("set-username", { name: "Alice" });
  // @ts-expect-error a field of the wrong type
  socket.emit("set-username", { username: 42 });
  // @ts-expect-error a payload missing a required field
  socket.emit("send-message", { room: "lobby" });
  // @ts-expect-error a server event sent by the client
  socket.emit("username-saved", { token: "t", username: "Alice", expiresAt: 0 });
  // @ts-expect-error a payload for an event that takes none
  socket.emit("get-profile", { username: "Alice" }, () => undefined);
  // @ts-expect-error listening to an event the server does not send
  socket.on("username-saves", () => undefined);
  // @ts-expect-error a listener that expects the wrong payload
  socket.on("new-message", (m: { body: string }) => console.log(m.body));
  // @ts-expect-error a field the payload does not have, in a listener
  socket.on("username-saved", (p) => console.log(p.tokn));
  // @ts-expect-error the ack of an event without reply has no data to read
  socket.emit("logout", (res) => res.ok && res.data.username);

  // @ts-expect-error an API method the schema does not have
  await api.setUserName({ username: "Alice" });
  // @ts-expect-error a field of the wrong type through the API
  await api.setUsername({ username: ["Alice"] });
  // @ts-expect-error a misspelled field through the API
  await api.joinRoom({ rom: "lobby" });
  // @ts-expect-error get-profile takes no payload
  await api.getProfile({});
  // @ts-expect-error setUsername resolves with nothing
  const nothing: string = await api.setUsername({ username: "Alice" });
  console.log(nothing);
  // @ts-expect-error the reply's fields are typed
  (await api.getProfile()).userName;

  // @ts-expect-error auth has a typed shape
  createSocket("http://localhost:3000", { auth: { tokn: "t" } });
  try {
    await api.getProfile();
  } catch (err) {
    // @ts-expect-error get-profile cannot fail with not-in-room
    if (isKarlError(err, "get-profile") && err.code === "not-in-room") console.log(err);
  }
}

export function MisusedHooks(): null {
  // @ts-expect-error useSocketEvent takes server events only
  useSocketEvent(socket, "set-username", () => undefined);
  // @ts-expect-error the handler gets the event's payload type
  useSocketEvent(socket, "new-message", (m: { body: string }) => console.log(m.body));
  useSocketEvent(socket, "new-message", (m) => console.log(m.text, m.sentAt.toFixed()));
  return null;
}
