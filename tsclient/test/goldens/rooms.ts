// The golden of a schema with typed rooms (gen/testdata/rooms): usePresence takes a kind
// with presence and its parameters, typed; a kind without presence and wrong parameters
// are refused; members are the kind's. Type-checked by tsconfig.goldens.json (npm run
// typecheck); never run.
import {
  applyPresenceDiff,
  applyPresenceState,
  createPresenceList,
  rooms,
  usePresence,
  type GameTableMember,
  type PresenceKind,
  type PresenceMember,
} from "../../../gen/testdata/rooms/ts/index";
import { createFakeSocket } from "../../../gen/testdata/rooms/ts/testing";

export function Table(): null {
  const { members, ready } = usePresence("game-table", { game: "go", table: 3 });
  const first: GameTableMember | undefined = members[0];
  const nickname: string | undefined = first?.nickname;
  const seated: boolean | undefined = first?.ready;
  void [ready, nickname, seated];
  usePresence("game-table", { game: "go", table: 3 }, { socket: createFakeSocket().socket });
  usePresence("game-table", { game: "go", table: 3 }, { socket: null });
  // @ts-expect-error the table is an integer
  usePresence("game-table", { game: "go", table: "3" });
  // @ts-expect-error both parameters name a table
  usePresence("game-table", { game: "go" });
  // @ts-expect-error channel has no presence
  usePresence("channel", { channel: "news" });
  return null;
}

export function kinds(): void {
  const kind: PresenceKind = "game-table";
  // @ts-expect-error only kinds with presence
  const none: PresenceKind = "channel";
  const member: PresenceMember<"game-table"> = { id: "x", nickname: "ada" };
  const events: ["game-table-presence", "game-table-presence-diff"] = [rooms[kind].state, rooms[kind].diff];
  const params: readonly ["game", "table"] = rooms["game-table"].params;
  void [none, member, events, params];

  let p = createPresenceList<GameTableMember>({ game: "go", table: 3 });
  p = applyPresenceState(p, { game: "go", table: 3, self: "x", members: [member] });
  p = applyPresenceDiff(p, { game: "go", table: 3, joins: [], leaves: [member] });
  void p;
}
