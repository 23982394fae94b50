import { useRef, useState, type FormEvent } from "react";

import { localStorageAdapter, useKarlSession, type ConnectionState } from "../../src/react";
import { browserNetInfo, documentAppState } from "./lifecycle";
import { toJpegDataURL } from "./photo";
import { RoomPanel } from "./Room";

const storage = localStorageAdapter();

const stateText: Record<ConnectionState, string> = {
  connecting: "connexion…",
  connected: "connecté",
  reconnecting: "reconnexion…",
  disconnected: "déconnecté",
  failed: "échec de la connexion",
};

/**
 * App is the KARL page: save a username, add a photo, find both again on the next visit;
 * join a chat room, talk, see who is there.
 */
export function App({ url }: { url: string }) {
  // Back on the tab, or the network back: reconnect at once instead of waiting for the backoff.
  const session = useKarlSession({ url, storage, appState: documentAppState, netInfo: browserNetInfo });
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const { status } = session;

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    try {
      await work();
    } catch {
      // shown from session.lastError
    } finally {
      setBusy(false);
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await session.setUsername(name);
      setName("");
    });
  };

  const pickPhoto = (file: File | undefined) => {
    if (file) void run(async () => session.uploadProfileImage(await toJpegDataURL(file)));
    if (fileInput.current) fileInput.current.value = "";
  };

  return (
    <main className="card">
      <h1>KARL</h1>
      <p className={`status status-${status.state}`} role="status">
        <span className="dot" aria-hidden="true" />
        Connexion : {stateText[status.state]}
        {status.state === "reconnecting" && status.attempt > 0 ? ` (tentative ${status.attempt})` : ""}
        {status.state === "connected" && status.recovered ? " (session reprise)" : ""}
      </p>

      {session.tokenExpired && <p className="notice">Token expiré, reconnectez-vous</p>}

      <section className="profile">
        <button
          type="button"
          className="photo"
          aria-label="Ajouter une photo"
          title="Ajouter une photo"
          disabled={busy || !session.username}
          onClick={() => fileInput.current?.click()}
        >
          {session.profileImage ? <img src={session.profileImage} alt="Photo de profil" /> : <span>+</span>}
        </button>
        <input
          ref={fileInput}
          type="file"
          accept="image/png,image/jpeg,image/webp,image/gif"
          hidden
          onChange={(e) => pickPhoto(e.target.files?.[0])}
        />
        <p className="who">{session.username ? `Pseudo: ${session.username}` : "Pas encore de pseudo"}</p>
      </section>

      <form onSubmit={submit}>
        <input
          aria-label="Pseudo"
          placeholder="Votre pseudo"
          value={name}
          maxLength={32}
          onChange={(e) => setName(e.target.value)}
        />
        <button type="submit" disabled={busy || name.trim() === ""}>
          Valider
        </button>
      </form>

      {session.lastError && (
        <p className="error" role="alert">
          {session.lastError.message}
        </p>
      )}

      <RoomPanel socket={session.socket} api={session.api} status={status} username={session.username} />
    </main>
  );
}
