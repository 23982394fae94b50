// The KARL session: the client flows of the seed (socketio-basics-karl.fr.md, "Cas
// d'usage du projet KARL") on top of the generated hooks.

import {
  createContext,
  createElement,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactElement,
  type ReactNode,
} from "react";

import {
  KarlError,
  KarlProvider,
  readImageDataURL,
  useSocket,
  useSocketEvent,
  ValidationError,
  type Api,
  type Auth,
  type KarlSocket,
  type SocketStatus,
  type UseSocketOptions,
} from "./generated/index";
import type { KarlStorage } from "./storage";

/** TOKEN_KEY is the storage key of the reconnect token, as in the seed. */
export const TOKEN_KEY = "reconnect_token";

/** KarlSessionOptions are useSocket's options (auth aside: the session sends the stored token) and a storage. */
export interface KarlSessionOptions extends Omit<UseSocketOptions, "auth"> {
  /** Where the reconnect token is kept between visits: AsyncStorage, localStorageAdapter(), ... */
  storage: KarlStorage;
}

/** KarlSession is what useKarlSession gives: the user's profile as the server knows it, and the calls that change it. */
export interface KarlSession {
  readonly socket: KarlSocket | null;
  readonly api: Api | null;
  readonly status: SocketStatus;
  /** The saved username; null until username-saved or reconnected, and again after token-expired or logout. */
  readonly username: string | null;
  /** The saved photo as a data URL; null when there is none. */
  readonly profileImage: string | null;
  /** True from token-expired until a username is saved again: the user must enter it again. */
  readonly tokenExpired: boolean;
  /** The last failure (a rejected call, a request-error, the storage); a call that succeeds clears it. */
  readonly lastError: Error | null;
  /** setUsername saves the username; it resolves once the server saved it and the token is stored. */
  setUsername(name: string): Promise<void>;
  /** uploadProfileImage saves the photo, a data URL (or raw base64) of a PNG, JPEG, WebP or GIF image. */
  uploadProfileImage(image: string): Promise<void>;
  /** logout revokes the token on the server and forgets it here. */
  logout(): Promise<void>;
}

interface Profile {
  username: string | null;
  profileImage: string | null;
}

const noProfile: Profile = { username: null, profileImage: null };

/**
 * useKarlSession connects to the KARL server with the token kept in storage (re-read on
 * every connect and reconnect), stores the token of username-saved, restores the profile
 * on reconnected, and forgets the token on token-expired.
 */
export function useKarlSession(options: KarlSessionOptions): KarlSession {
  const { storage, ...socketOptions } = options;
  const storageRef = useRef(storage);
  useEffect(() => {
    storageRef.current = storage;
  });

  // A reconnection that did not recover the previous connection may have missed events
  // (a rename on another device, a photo): the profile is read again from the server.
  const apiRef = useRef<Api | null>(null);
  const refreshProfile = async (): Promise<void> => {
    const current = apiRef.current;
    if (current === null) return;
    try {
      const p = await current.getProfile();
      setProfile({ username: p.username, profileImage: p.profileImage ?? null });
    } catch (err) {
      if (err instanceof KarlError && err.code === "no-session") return; // nothing saved yet, or token-expired handles it
      setLastError(asError(err));
    }
  };
  const { socket, api, status } = useSocket({
    ...socketOptions,
    onRecoveryFailed: () => {
      socketOptions.onRecoveryFailed?.();
      void refreshProfile();
    },
    auth: async (): Promise<Auth> => {
      const token = await storageRef.current.getItem(TOKEN_KEY);
      return token ? { token } : {};
    },
  });
  apiRef.current = api;
  const [profile, setProfile] = useState<Profile>(noProfile);
  const [tokenExpired, setTokenExpired] = useState(false);
  const [lastError, setLastError] = useState<Error | null>(null);
  // The storage write of the last username-saved, which setUsername waits for: the
  // server sends username-saved before it answers set-username.
  const tokenWrite = useRef<Promise<void>>(Promise.resolve());

  useSocketEvent(socket, "username-saved", ({ token, username }) => {
    tokenWrite.current = storageRef.current.setItem(TOKEN_KEY, token).catch((err: unknown) => {
      setLastError(asError(err));
    });
    setProfile((p) => ({ ...p, username }));
    setTokenExpired(false);
  });
  useSocketEvent(socket, "reconnected", ({ username, profileImage }) => {
    setProfile({ username, profileImage: profileImage ?? null });
    setTokenExpired(false);
  });
  useSocketEvent(socket, "token-expired", () => {
    forgetToken(storageRef.current, setLastError);
    setProfile(noProfile);
    setTokenExpired(true);
  });
  useSocketEvent(socket, "request-error", (e) => {
    setLastError(new KarlError(e.event, e.code, e.message, e.path ?? ""));
  });

  const calls = useMemo(() => {
    // run performs one call, keeping lastError up to date.
    const run = async (event: string, call: (api: Api) => Promise<void>): Promise<void> => {
      if (api === null) {
        const err = new KarlError(event, "not-connected", "not connected to the server yet");
        setLastError(err);
        throw err;
      }
      try {
        await call(api);
        setLastError(null);
      } catch (err) {
        setLastError(asError(err));
        throw err;
      }
    };
    return {
      setUsername: (name: string) =>
        run("set-username", async (a) => {
          await a.setUsername({ username: name });
          await tokenWrite.current;
        }),
      uploadProfileImage: (image: string) =>
        run("upload-profile-image", async (a) => {
          await a.uploadProfileImage({ imageBase64: image });
          // Raw base64 is stored as a data URL by the server: ask it for the result.
          const profileImage = isImageDataURL(image) ? image : ((await a.getProfile()).profileImage ?? null);
          setProfile((p) => ({ ...p, profileImage }));
        }),
      logout: () =>
        run("logout", async (a) => {
          await a.logout();
          await storageRef.current.removeItem(TOKEN_KEY);
          setProfile(noProfile);
        }),
    };
  }, [api]);

  return { socket, api, status, ...profile, tokenExpired, lastError, ...calls };
}

const SessionContext = createContext<KarlSession | null>(null);

/** KarlSessionProviderProps are useKarlSession's options and the components that share the session. */
export type KarlSessionProviderProps = KarlSessionOptions & { children?: ReactNode };

/**
 * KarlSessionProvider runs one useKarlSession for the components below it: useSession
 * reads the session, and useApi, useSocketStatus and useSocketEvent(event, handler) its
 * socket, as under a KarlProvider. The screens of an app share one connection and one
 * session instead of each opening its own.
 */
export function KarlSessionProvider(props: KarlSessionProviderProps): ReactElement {
  const { children, ...options } = props;
  const session = useKarlSession(options);
  const shared = options.timeout === undefined ? { socket: session.socket } : { socket: session.socket, timeout: options.timeout };
  return createElement(KarlProvider, shared, createElement(SessionContext.Provider, { value: session }, children));
}

/** useSession returns the session of the enclosing KarlSessionProvider. */
export function useSession(): KarlSession {
  const session = useContext(SessionContext);
  if (session === null) throw new Error("karl: useSession() needs a <KarlSessionProvider> above it");
  return session;
}

function forgetToken(storage: KarlStorage, report: (err: Error) => void): void {
  storage.removeItem(TOKEN_KEY).catch((err: unknown) => report(asError(err)));
}

function isImageDataURL(image: string): boolean {
  try {
    readImageDataURL(image);
    return true;
  } catch (err) {
    if (err instanceof ValidationError) return false;
    throw err;
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
