// @karl-app/client/react: the React hooks (React Native and the web): KarlProvider with
// useApi, useSocketStatus, useSocketEvent and usePresence (typed rooms) for one socket per
// app, useSocket for one component, and the KARL session (useKarlSession). It re-exports the core entry, so an
// app can import everything from here.
export * from "./index";
export * from "./generated/react";
export * from "./generated/usepresence";
export * from "./session";
