// The web's stand-ins for React Native's AppState and NetInfo, for the hooks'
// lifecycle options: a hidden tab is "background", a visible one "active"; the
// browser's online and offline events are the network.
import type { UseSocketOptions } from "../../src/react";

type AppStateLike = NonNullable<UseSocketOptions["appState"]>;
type NetInfoLike = NonNullable<UseSocketOptions["netInfo"]>;

const visibility = (): string => (document.visibilityState === "visible" ? "active" : "background");

export const documentAppState: AppStateLike = {
  get currentState() {
    return visibility();
  },
  addEventListener(_type, listener) {
    const onChange = () => listener(visibility());
    document.addEventListener("visibilitychange", onChange);
    return { remove: () => document.removeEventListener("visibilitychange", onChange) };
  },
};

export const browserNetInfo: NetInfoLike = {
  addEventListener(listener) {
    const online = () => listener({ isConnected: true });
    const offline = () => listener({ isConnected: false });
    window.addEventListener("online", online);
    window.addEventListener("offline", offline);
    return () => {
      window.removeEventListener("online", online);
      window.removeEventListener("offline", offline);
    };
  },
};
