import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { App } from "./App";
import "./styles.css";

// The page talks to the server that serves it, or to the one named by ?server=.
const server = new URLSearchParams(window.location.search).get("server") ?? window.location.origin;

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App url={server} />
  </StrictMode>,
);
