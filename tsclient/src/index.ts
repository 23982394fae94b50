// @karl-app/client: the typed Socket.IO client of KARL, without React (the presence
// reducer of typed rooms included). Everything under
// generated/ is rendered by karlgen from schema/karl.yaml; storage, session and the
// entries are written by hand. The hooks are in @karl-app/client/react (./react.ts), the
// fake socket for tests in @karl-app/client/testing (./testing.ts).
//
// Imports between source files are extensionless, as karlgen writes them: Metro cannot
// resolve "./x.js" to x.ts (facebook/metro#886). scripts/build.mjs adds ".js" to the
// compiled files in dist/, which Node ESM requires.
export * from "./generated/types";
export { ValidationError, type Reader } from "./generated/checks";
export * from "./generated/validate";
export {
  createSocket,
  isKarlError,
  KarlError,
  SOCKET_DEFAULTS,
  type ApiError,
  type AuthOption,
  type AuthProvider,
  type CreateSocketArgs,
  type CreateSocketOptions,
  type EventReaders,
  type KarlSocket,
  type LocalErrorCode,
} from "./generated/socket";
export * from "./generated/api";
export * from "./generated/rooms";
export * from "./generated/presence";
export * from "./storage";
