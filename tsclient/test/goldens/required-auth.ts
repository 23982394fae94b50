// The golden of a schema with a required auth field (gen/testdata/required-auth):
// auth cannot be omitted from createSocket, useSocket or KarlProvider, and {} is not an
// Auth. Type-checked by tsconfig.goldens.json (npm run typecheck); never run.
import { createElement } from "react";

import {
  createSocket,
  KarlProvider,
  useSocket,
  type Auth,
  type CreateSocketOptions,
  type UseSocketOptions,
} from "../../../gen/testdata/required-auth/ts/index";
import { createFakeSocket } from "../../../gen/testdata/required-auth/ts/testing";

const url = "http://localhost:3000";

export function sockets(): void {
  createSocket(url, { auth: { playerName: "Ada" } });
  createSocket(url, { auth: async () => ({ playerName: "Ada" }) });
  // @ts-expect-error auth has a required field: the options cannot be omitted
  createSocket(url);
  // @ts-expect-error nor can auth
  createSocket(url, { reconnection: false });
  // @ts-expect-error {} is not an Auth
  createSocket(url, { auth: {} });
  // @ts-expect-error a provider must return an Auth
  createSocket(url, { auth: () => ({}) });
}

export function Hooks(): null {
  useSocket({ url, auth: { playerName: "Ada" } });
  // @ts-expect-error useSocket needs the auth too
  useSocket({ url });
  return null;
}

export function providers(): void {
  createElement(KarlProvider, { url, auth: () => ({ playerName: "Ada" }) });
  createElement(KarlProvider, { socket: createFakeSocket().socket });
  // @ts-expect-error KarlProvider needs the auth too
  createElement(KarlProvider, { url });
}

// @ts-expect-error the option types say so as well
export const noAuth: CreateSocketOptions = {};
export const withAuth: UseSocketOptions = { url, auth: { playerName: "Ada" } satisfies Auth };
