// How an app uses the generated lobby client without React: createSocket, createApi,
// typed events and error codes. The hooks are in example-react.ts. Both are
// type-checked with the strictest settings (npm run typecheck) and run nowhere: a
// schema change that breaks their callers breaks these files first.

import { createApi } from "./generated/api.js";
import { createSocket, isKarlError } from "./generated/socket.js";
import type { ChatMessage, ConnectErrorCode, Lobby, Team } from "./generated/types.js";

/**
 * refusal reads the code of a refused handshake from connect_error: the runtime's
 * codes and the schema's handshake errors ("name-taken", "reserved-name").
 */
export function refusal(err: Error): { code: ConnectErrorCode; message: string; path?: string } | null {
  const data = (err as Error & { data?: unknown }).data;
  if (typeof data !== "object" || data === null || !("code" in data)) return null;
  return data as { code: ConnectErrorCode; message: string; path?: string };
}

/**
 * play connects as name, joins lobby, picks team and readies up, collecting the chat
 * until the game starts. Each call is checked against the schema on both sides.
 */
export async function play(url: string, name: string, lobby: string, team: Team): Promise<{ lobby: Lobby; chat: ChatMessage[] }> {
  const socket = createSocket(url, { auth: { playerName: name, clientVersion: "example-1" } });
  const api = createApi(socket, { timeout: 3000 });
  const chat: ChatMessage[] = [];
  socket.on("chat-message", (m) => chat.push(m));
  const starting = new Promise<void>((resolve) => socket.once("game-starting", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", (err) => {
      const why = refusal(err);
      // The union is exhaustive: a code the schema adds shows up here as a type error in a switch.
      reject(new Error(why?.code === "name-taken" ? `${name} is taken` : (why?.message ?? err.message)));
    });
  });

  let joined: Lobby;
  try {
    joined = await api.joinLobby({ lobby });
  } catch (err) {
    if (isKarlError(err, "join-lobby") && err.code === "already-in-lobby") {
      await api.leaveLobby();
      joined = await api.joinLobby({ lobby });
    } else {
      throw err;
    }
  }
  const host: string | undefined = joined.host; // optional: string | undefined
  await api.pickTeam({ team });
  await api.chat({ text: host === name ? "I am the host" : `hi ${host ?? "everyone"}` });
  await api.setReady({ ready: true });
  await starting;
  const now = await api.getLobby({}); // lobby omitted: the caller's own
  const reds = now.teams.find((t) => t.team === "red")?.players ?? [];
  const first = now.players[0]; // noUncheckedIndexedAccess: Player | undefined
  if (first?.team === undefined || reds.length === 0) throw new Error("the lobby started without teams");
  socket.disconnect();
  return { lobby: now, chat };
}
