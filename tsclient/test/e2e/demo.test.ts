// The demo page as a person uses it, in headless Chromium: type a name, validate, pick a
// photo, reload, see both restored; the server restarts, the page reconnects by itself;
// two users meet in a chat room, see each other and talk.

import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, inject, test } from "vitest";

import { png } from "../support/png";
import { startServer, type RunningServer } from "../support/server";

const here = dirname(fileURLToPath(import.meta.url));
const demoDist = resolve(here, "../../demo/dist");
const results = resolve(here, "../../test-results");

let browser: Browser;
const servers: RunningServer[] = [];

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  await mkdir(results, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function serve(opts: { port?: number; db?: string; args?: string[] } = {}): Promise<RunningServer> {
  const srv = await startServer({
    bin: inject("karlServerBin"),
    dir: inject("karlTmpDir"),
    ...opts,
    args: ["--static", demoDist, ...(opts.args ?? [])],
  });
  servers.push(srv);
  return srv;
}

async function openPage(url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 480, height: 520 } });
  page.on("pageerror", (err) => console.error("page error:", err));
  await page.goto(url);
  await expect.poll(() => page.getByRole("status").textContent(), { timeout: 10_000 }).toContain("connecté");
  return page;
}

test("save a name and a photo, find them after a reload and after a server restart", async () => {
  const srv = await serve();
  const page = await openPage(srv.url);
  await page.screenshot({ path: join(results, "demo-empty.png") });

  await page.getByLabel("Pseudo").fill("Alice");
  await page.getByRole("button", { name: "Valider" }).click();
  await page.getByText("Pseudo: Alice").waitFor();
  expect(await page.evaluate(() => localStorage.getItem("reconnect_token"))).toMatch(/^[A-Za-z0-9_-]{43}$/);

  // A photo larger than 512 px: the page sends a downscaled JPEG.
  await page.locator('input[type="file"]').setInputFiles({ name: "photo.png", mimeType: "image/png", buffer: png(900, 600, [40, 120, 220]) });
  const photo = page.getByAltText("Photo de profil");
  await photo.waitFor();
  expect(await photo.getAttribute("src")).toMatch(/^data:image\/jpeg;base64,/);
  const size = await photo.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]);
  expect(size).toEqual([512, 341]);

  await page.reload();
  await page.getByText("Pseudo: Alice").waitFor();
  await page.getByAltText("Photo de profil").waitFor();

  await srv.stop();
  await expect.poll(() => page.getByRole("status").textContent(), { timeout: 10_000 }).toMatch(/reconnexion/);
  await serve({ port: srv.port, db: srv.db });
  await expect.poll(() => page.getByRole("status").textContent(), { timeout: 15_000 }).toBe("Connexion : connecté");
  await page.getByText("Pseudo: Alice").waitFor();
  await page.getByAltText("Photo de profil").waitFor();
  await page.screenshot({ path: join(results, "demo.png") });
  await page.close();
});

test("an expired token: the page says so and the name is to be entered again", async () => {
  const srv = await serve({ args: ["--token-ttl", "2s"] });
  const page = await openPage(srv.url);
  await page.getByLabel("Pseudo").fill("Bob");
  await page.getByRole("button", { name: "Valider" }).click();
  await page.getByText("Pseudo: Bob").waitFor();

  await new Promise((r) => setTimeout(r, 2100));
  await page.reload();
  await page.getByText("Token expiré, reconnectez-vous").waitFor();
  await page.getByText("Pas encore de pseudo").waitFor();
  expect(await page.evaluate(() => localStorage.getItem("reconnect_token"))).toBeNull();
  await page.screenshot({ path: join(results, "demo-token-expired.png") });
  await page.close();
});

test("two users in a room: each sees both, a message reaches the other, a closed page leaves at once", async () => {
  const srv = await serve();
  const enter = async (name: string): Promise<Page> => {
    const page = await openPage(srv.url);
    await page.getByLabel("Pseudo").fill(name);
    await page.getByRole("button", { name: "Valider" }).click();
    await page.getByText(`Pseudo: ${name}`).waitFor();
    await page.getByLabel("Nom du salon").fill("lobby");
    await page.getByRole("button", { name: "Rejoindre" }).click();
    await page.getByRole("heading", { name: "Salon : lobby" }).waitFor();
    return page;
  };
  const present = (page: Page) => page.getByRole("list", { name: "Présents" }).getByRole("listitem").allTextContents();

  const alice = await enter("Alice");
  await expect.poll(() => present(alice), { timeout: 10_000 }).toEqual(["Alice"]);
  const bob = await enter("Bob");
  // In the order they joined, on both pages.
  await expect.poll(() => present(bob), { timeout: 10_000 }).toEqual(["Alice", "Bob"]);
  await expect.poll(() => present(alice), { timeout: 10_000 }).toEqual(["Alice", "Bob"]);
  await alice.getByText("Présents (2)").waitFor();

  await alice.getByLabel("Message", { exact: true }).fill("Bonjour Bob");
  await alice.getByRole("button", { name: "Envoyer" }).click();
  const messages = (page: Page) => page.getByRole("list", { name: "Messages" }).getByRole("listitem").allTextContents();
  await expect.poll(() => messages(bob), { timeout: 10_000 }).toEqual(["Alice : Bonjour Bob"]);
  await expect.poll(() => messages(alice), { timeout: 10_000 }).toEqual(["Alice : Bonjour Bob"]);
  await alice.screenshot({ path: join(results, "demo-room.png") });

  // The server sends the leave when the connection ends, without waiting for the ping timeout (45 s).
  const closed = Date.now();
  await bob.close();
  await alice.getByText("Présents (1)").waitFor({ timeout: 5_000 });
  const leftAfter = Date.now() - closed;
  console.log(`the closed page left the list after ${leftAfter} ms`);
  expect(leftAfter).toBeLessThan(3_000);
  expect(await present(alice)).toEqual(["Alice"]);

  // Leaving and joining again: a fresh state.
  await alice.getByRole("button", { name: "Quitter le salon" }).click();
  await alice.getByRole("button", { name: "Rejoindre" }).click();
  await expect.poll(() => present(alice), { timeout: 10_000 }).toEqual(["Alice"]);

  // A server restart cannot recover the session: the page joins the room again by itself,
  // so its messages still arrive (send-message answers not-in-room to a socket in no room).
  await srv.stop();
  await expect.poll(() => alice.getByRole("status").textContent(), { timeout: 10_000 }).toMatch(/reconnexion/);
  await serve({ port: srv.port, db: srv.db });
  await expect.poll(() => alice.getByRole("status").textContent(), { timeout: 15_000 }).toBe("Connexion : connecté");
  await alice.getByLabel("Message", { exact: true }).fill("De retour");
  await alice.getByRole("button", { name: "Envoyer" }).click();
  await expect.poll(() => messages(alice), { timeout: 10_000 }).toContain("Alice : De retour");
  expect(await present(alice)).toEqual(["Alice"]);
  await alice.close();
});
