import { useEffect, useState, type FormEvent } from "react";

import {
  usePresence,
  useSocketEvent,
  type Api,
  type KarlSocket,
  type NewMessage,
  type SocketStatus,
} from "../../src/react";

interface RoomPanelProps {
  readonly socket: KarlSocket | null;
  readonly api: Api | null;
  readonly status: SocketStatus;
  /** The session's username: joining needs one. */
  readonly username: string | null;
}

/**
 * RoomPanel is the chat of the demo: join a room by its name, send messages to it, see
 * its messages and who is there (usePresence, from the server's chat-presence events).
 */
export function RoomPanel({ socket, api, status, username }: RoomPanelProps) {
  const [draft, setDraft] = useState("lobby");
  const [room, setRoom] = useState<string | null>(null);
  const [text, setText] = useState("");
  const [messages, setMessages] = useState<NewMessage[]>([]);
  const [error, setError] = useState("");
  // Not in a room: the params name none, so no event matches.
  const presence = usePresence("chat", { room: room ?? "" }, { socket });

  useSocketEvent(socket, "new-message", (m) => {
    if (m.room === room) setMessages((all) => [...all.slice(-49), m]);
  });

  // A reconnection that did not recover the session left the room on the server: join again.
  const { state, recovered } = status;
  useEffect(() => {
    if (state === "connected" && !recovered && room !== null && api !== null) {
      api.joinRoom({ room }).catch(() => setRoom(null));
    }
    // Only on a new connection: joining is the Join button's otherwise.
  }, [state, recovered]);

  const fail = (err: unknown) => setError(err instanceof Error ? err.message : String(err));

  const join = (e: FormEvent) => {
    e.preventDefault();
    if (api === null) return;
    // The server trims room names; presence events carry the name as the server keeps it.
    const name = draft.trim().normalize("NFC");
    setError("");
    setMessages([]);
    // Follow the room before joining: its chat-presence may come before the answer.
    setRoom(name);
    api.joinRoom({ room: name }).catch((err: unknown) => {
      setRoom(null);
      fail(err);
    });
  };

  const leave = () => {
    if (api === null || room === null) return;
    const left = room;
    setRoom(null);
    api.leaveRoom({ room: left }).catch(fail);
  };

  const send = (e: FormEvent) => {
    e.preventDefault();
    if (api === null || room === null) return;
    const message = text;
    setText("");
    api.sendMessage({ room, text: message }).catch(fail);
  };

  return (
    <section className="room" aria-label="Salon">
      <h2>Salon{room !== null ? ` : ${room}` : ""}</h2>
      {room === null ? (
        <form onSubmit={join}>
          <input
            aria-label="Nom du salon"
            placeholder="Nom du salon"
            value={draft}
            maxLength={64}
            onChange={(e) => setDraft(e.target.value)}
          />
          <button type="submit" disabled={!username || api === null || draft.trim() === ""}>
            Rejoindre
          </button>
        </form>
      ) : (
        <>
          <div className="members">
            <p>{presence.ready ? `Présents (${presence.members.length})` : "Arrivée…"}</p>
            <ul aria-label="Présents">
              {presence.members.map((m) => (
                <li key={m.id}>{m.username}</li>
              ))}
            </ul>
          </div>
          <ul className="messages" aria-label="Messages">
            {messages.map((m, i) => (
              <li key={`${m.sentAt}-${i}`}>
                <strong>{m.username}</strong> : {m.text}
              </li>
            ))}
          </ul>
          <form onSubmit={send}>
            <input aria-label="Message" placeholder="Message" value={text} maxLength={2000} onChange={(e) => setText(e.target.value)} />
            <button type="submit" disabled={text === ""}>
              Envoyer
            </button>
          </form>
          <button type="button" className="leave" onClick={leave}>
            Quitter le salon
          </button>
        </>
      )}
      {error && <p className="error">{error}</p>}
    </section>
  );
}
