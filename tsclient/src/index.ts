// @karl-app/client: the typed Socket.IO client of KARL. Everything under generated/ is
// rendered by karlgen from schema/karl.yaml; storage and session are written by hand.
export * from "./generated/index.js";
export * from "./storage.js";
export * from "./session.js";
