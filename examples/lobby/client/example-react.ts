// How a React (or React Native) screen uses the generated hooks: useSocket opens one
// socket for the component, useSocketEvent listens with the payload typed and checked.

import { useEffect, useState } from "react";

import {
  useSocket,
  useSocketEvent,
  type ChatMessage,
  type Lobby,
  type SocketStatus,
  type Team,
} from "./generated/index.js";

/** LobbyView is what a lobby screen renders. */
export interface LobbyView {
  status: SocketStatus;
  lobby: Lobby | null;
  chat: readonly ChatMessage[];
  starting: boolean;
  pick(team: Team): void;
  say(text: string): void;
}

/**
 * useLobby is a React hook for a lobby screen: one socket for the component, the
 * lobby's state refreshed on every change its members hear about.
 */
export function useLobby(url: string, playerName: string, lobbyID: string): LobbyView {
  const { socket, api, status } = useSocket({ url, auth: { playerName } });
  const [lobby, setLobby] = useState<Lobby | null>(null);
  const [chat, setChat] = useState<readonly ChatMessage[]>([]);
  const [starting, setStarting] = useState(false);

  useEffect(() => {
    if (api === null || status.state !== "connected") return;
    api.joinLobby({ lobby: lobbyID }).then(setLobby, () => setLobby(null));
  }, [api, status.state, lobbyID]);

  const refresh = () => {
    api?.getLobby({ lobby: lobbyID }).then(setLobby, () => setLobby(null));
  };
  useSocketEvent(socket, "player-joined", ({ player }) => {
    setLobby((l) => (l === null ? l : { ...l, players: [...l.players, player] }));
  });
  useSocketEvent(socket, "player-left", refresh);
  useSocketEvent(socket, "team-picked", refresh);
  useSocketEvent(socket, "player-ready", refresh);
  useSocketEvent(socket, "chat-message", (m) => setChat((c) => [...c, m]));
  useSocketEvent(socket, "game-starting", () => setStarting(true));

  return {
    status,
    lobby,
    chat,
    starting,
    pick: (team) => void api?.pickTeam({ team }).catch(() => undefined),
    say: (text) => void api?.chat({ text }).catch(() => undefined),
  };
}
