// createFakeSocket: components that use the hooks, tested without a server.

import { act, fireEvent, render, renderHook, screen, waitFor } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, test, vi } from "vitest";

import {
  isKarlError,
  KarlProvider,
  useApi,
  useSocketEvent,
  useSocketStatus,
  type NewMessage,
  type Profile,
} from "../src/react";
import { createFakeSocket, type FakeSocket } from "../src/testing";

/** Chat is a component under test: it lists the messages of a room and sends new ones. */
function Chat() {
  const api = useApi();
  const [messages, setMessages] = useState<NewMessage[]>([]);
  const [error, setError] = useState("");
  useSocketEvent("new-message", (m) => setMessages((all) => [...all, m]));
  const send = () =>
    api.sendMessage({ room: "lobby", text: "hello" }).catch((err: unknown) => {
      if (isKarlError(err, "send-message")) setError(err.code);
    });
  return (
    <div>
      <ul>
        {messages.map((m) => (
          <li key={m.sentAt}>{`${m.username}: ${m.text}`}</li>
        ))}
      </ul>
      <button onClick={send}>send</button>
      <p data-testid="error">{error}</p>
    </div>
  );
}

function renderWith(fake: FakeSocket, ui = <Chat />) {
  return render(<KarlProvider socket={fake.socket}>{ui}</KarlProvider>);
}

describe("createFakeSocket", () => {
  test("delivers server events to the component's listeners, checked like real ones", () => {
    const fake = createFakeSocket();
    renderWith(fake);
    act(() => fake.receive("new-message", { room: "lobby", username: "ada", text: "hi", sentAt: 1 }));
    expect(screen.getByRole("listitem").textContent).toBe("ada: hi");
  });

  test("shows what the component sent, typed, and lets the test answer", async () => {
    const fake = createFakeSocket();
    renderWith(fake);
    fireEvent.click(screen.getByText("send"));
    const call = await fake.nextCall("send-message");
    expect(call.payload).toEqual({ room: "lobby", text: "hello" });
    expect(call.payload.text.length).toBe(5); // typed: SendMessage
    expect(call.hasAck).toBe(true);
    await act(async () => call.fail("not-in-room", "Join the room first."));
    await waitFor(() => expect(screen.getByTestId("error").textContent).toBe("not-in-room"));
    expect(() => call.reply()).toThrow("already answered");
    expect(fake.calls.map((c) => c.event)).toEqual(["send-message"]);
  });

  test("answer replies to every later call; replies are checked against the schema", async () => {
    const fake = createFakeSocket();
    fake.answer("get-profile", () => ({ ok: true, data: { username: "ada" } }));
    const { result } = renderHook(() => useApi(), {
      wrapper: ({ children }) => <KarlProvider socket={fake.socket}>{children}</KarlProvider>,
    });
    const profile: Profile = await result.current.getProfile();
    expect(profile).toEqual({ username: "ada" });

    fake.answer("get-profile", () => ({ ok: true, data: { username: "" } }));
    await expect(result.current.getProfile()).rejects.toMatchObject({ code: "invalid-response", path: "username" });
    expect(fake.callsOf("get-profile")).toHaveLength(2);
  });

  test("a call nobody answers times out like one the server never answers", async () => {
    vi.useFakeTimers();
    try {
      const fake = createFakeSocket();
      const { result } = renderHook(() => useApi(), {
        wrapper: ({ children }) => <KarlProvider socket={fake.socket}>{children}</KarlProvider>,
      });
      const call = result.current.logout();
      vi.advanceTimersByTime(5000);
      await expect(call).rejects.toMatchObject({ code: "timeout", event: "logout" });
    } finally {
      vi.useRealTimers();
    }
  });

  test("payloads the schema refuses reach onInvalid, not the handler", () => {
    const fake = createFakeSocket();
    const handler = vi.fn();
    const onInvalid = vi.fn();
    renderHook(() => useSocketEvent(fake.socket, "new-message", handler, { onInvalid }));
    act(() => fake.receiveRaw("new-message", { room: "lobby" }));
    expect(handler).not.toHaveBeenCalled();
    expect(onInvalid).toHaveBeenCalledOnce();
  });

  test("connection status and not-connected follow the fake's connection", async () => {
    const fake = createFakeSocket({ connected: false });
    const { result } = renderHook(() => ({ status: useSocketStatus(), api: useApi() }), {
      wrapper: ({ children }) => <KarlProvider socket={fake.socket}>{children}</KarlProvider>,
    });
    expect(result.current.status.state).toBe("connecting");
    await expect(result.current.api.logout()).rejects.toMatchObject({ code: "not-connected" });
    expect(fake.calls).toHaveLength(0);

    act(() => fake.connect());
    expect(result.current.status.state).toBe("connected");
    act(() => fake.drop());
    expect(result.current.status.state).toBe("reconnecting");
  });

  test("listeners are removed on unmount; the provider leaves a given socket open", () => {
    const fake = createFakeSocket();
    const { unmount } = renderWith(fake);
    expect(fake.listenerCount("new-message")).toBe(1);
    unmount();
    expect(fake.listenerCount("new-message")).toBe(0);
    expect(fake.socket.connected).toBe(true);
  });
});

// Compile-time checks of the fake's typing (never run).
export function typing(fake: FakeSocket): void {
  // @ts-expect-error receive takes the event's payload type
  fake.receive("new-message", { room: "lobby" });
  // @ts-expect-error only server events are received
  fake.receive("set-username", { username: "ada" });
  void fake.nextCall("get-profile").then((call) => {
    // @ts-expect-error get-profile answers a Profile
    call.reply({ name: "ada" });
    // @ts-expect-error get-profile cannot fail with not-in-room
    call.fail("not-in-room");
    call.reply({ username: "ada" });
  });
}
