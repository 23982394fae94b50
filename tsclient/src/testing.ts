// @karl-app/client/testing: createFakeSocket, a typed fake socket for testing components
// that use the hooks without a server.
export * from "./generated/testing";
