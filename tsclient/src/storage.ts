/**
 * KarlStorage keeps the reconnect token between visits. Its methods return promises:
 * React Native's AsyncStorage (@react-native-async-storage/async-storage) satisfies it
 * as it is, and localStorageAdapter wraps the browser's localStorage.
 */
export interface KarlStorage {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
}

/** SyncStorage is the part of the Web Storage API that localStorageAdapter uses. */
export interface SyncStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * localStorageAdapter adapts a synchronous Web Storage (the browser's localStorage by
 * default, looked up on each call) to KarlStorage. A storage that throws (Safari's
 * private mode, a full quota) rejects the promise.
 */
export function localStorageAdapter(storage?: SyncStorage): KarlStorage {
  const target = (): SyncStorage => {
    const s = storage ?? (globalThis as { localStorage?: SyncStorage }).localStorage;
    if (s === undefined) throw new Error("localStorage is not available here");
    return s;
  };
  return {
    getItem: async (key) => target().getItem(key),
    setItem: async (key, value) => target().setItem(key, value),
    removeItem: async (key) => target().removeItem(key),
  };
}

/** memoryStorage keeps values in memory only: for tests, and for places without storage. */
export function memoryStorage(initial: Record<string, string> = {}): KarlStorage {
  const values = new Map(Object.entries(initial));
  return {
    getItem: async (key) => values.get(key) ?? null,
    setItem: async (key, value) => {
      values.set(key, value);
    },
    removeItem: async (key) => {
      values.delete(key);
    },
  };
}
