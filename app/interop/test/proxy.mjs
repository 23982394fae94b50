// A loopback TCP proxy between a test's client and a karl-server, to make the
// network misbehave on purpose: pause it, cut every connection (and refuse new
// ones until resumed), or drop one WebSocket frame the server sends.
//
//   const proxy = await startProxy(server.url);
//   io(proxy.url, ...);
//   proxy.cut();                                   // connections closed, new ones refused
//   proxy.resume();                                // accepted and forwarded again
//   proxy.pause();                                 // connections held open, nothing forwarded
//   proxy.dropNextFrameMatching((text) => /^43\d/.test(text)); // e.g. the next ack the server sends
//   await proxy.close();
//
// Frames are read in the server-to-client direction only, after the HTTP
// upgrade; the client's offer of permessage-deflate is removed from its
// upgrade request so frames stay readable. Frames are never changed, only
// dropped whole.
import { createServer, connect as tcpConnect } from "node:net";

/**
 * Starts a proxy to target (an http:// URL). Returns {url, port, pause(),
 * resume(), cut(), dropNextFrameMatching(predicate) -> Promise<text>,
 * connections(), close()}.
 */
export async function startProxy(target) {
  const { hostname, port: targetPort } = new URL(target);
  const live = new Set(); // {client, upstream}
  let state = "open"; // open | paused | down
  const droppers = []; // {predicate, resolve}

  const server = createServer((client) => {
    if (state === "down") {
      client.destroy();
      return;
    }
    const upstream = tcpConnect(Number(targetPort), hostname);
    const pair = { client, upstream };
    live.add(pair);
    const end = () => {
      live.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    if (state === "paused") { client.pause(); upstream.pause(); }

    let request = Buffer.alloc(0); // the client's HTTP request, until its end
    client.on("data", (chunk) => {
      if (request === null) { upstream.write(chunk); return; }
      request = Buffer.concat([request, chunk]);
      const head = request.indexOf("\r\n\r\n");
      if (head < 0) return;
      const header = request.subarray(0, head).toString("latin1")
        .split("\r\n").filter((l) => !/^sec-websocket-extensions:/i.test(l)).join("\r\n");
      upstream.write(Buffer.concat([Buffer.from(header + "\r\n\r\n", "latin1"), request.subarray(head + 4)]));
      request = null;
    });

    let response = Buffer.alloc(0); // the server's HTTP response, then frames
    let upgraded = false;
    upstream.on("data", (chunk) => {
      response = Buffer.concat([response, chunk]);
      if (!upgraded) {
        const head = response.indexOf("\r\n\r\n");
        if (head < 0) return;
        const status = response.subarray(0, head).toString("latin1");
        client.write(response.subarray(0, head + 4));
        response = response.subarray(head + 4);
        upgraded = / 101 /.test(status.split("\r\n")[0]);
        if (!upgraded) { client.write(response); response = Buffer.alloc(0); request = null; return; }
      }
      for (;;) {
        const frame = frameLength(response);
        if (frame === null) return;
        const bytes = response.subarray(0, frame.total);
        response = response.subarray(frame.total);
        if (droppers.length > 0 && frame.opcode === 1) {
          const text = bytes.subarray(frame.header).toString("utf8");
          const i = droppers.findIndex((d) => d.predicate(text));
          if (i >= 0) {
            droppers.splice(i, 1)[0].resolve(text);
            continue;
          }
        }
        client.write(bytes);
      }
    });
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address();

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    /** Holds every connection open and forwards nothing (a tunnel, a dead Wi-Fi). */
    pause() {
      state = "paused";
      for (const { client, upstream } of live) { client.pause(); upstream.pause(); }
    },
    /** Forwards and accepts again. */
    resume() {
      state = "open";
      for (const { client, upstream } of live) { client.resume(); upstream.resume(); }
    },
    /** Closes every connection and refuses new ones until resume(). */
    cut() {
      state = "down";
      for (const { client, upstream } of [...live]) { client.destroy(); upstream.destroy(); }
      live.clear();
    },
    /** Drops the next server-to-client text frame whose text matches; resolves with it. */
    dropNextFrameMatching(predicate) {
      return new Promise((resolve) => droppers.push({ predicate, resolve }));
    },
    connections: () => live.size,
    async close() {
      for (const { client, upstream } of [...live]) { client.destroy(); upstream.destroy(); }
      await new Promise((ok) => server.close(ok));
    },
  };
}

/** The header and total length of the WebSocket frame at the start of b, or null when incomplete. */
function frameLength(b) {
  if (b.length < 2) return null;
  const opcode = b[0] & 0x0f;
  const masked = (b[1] & 0x80) !== 0;
  let len = b[1] & 0x7f;
  let header = 2;
  if (len === 126) {
    if (b.length < 4) return null;
    len = b.readUInt16BE(2);
    header = 4;
  } else if (len === 127) {
    if (b.length < 10) return null;
    len = Number(b.readBigUInt64BE(2));
    header = 10;
  }
  if (masked) header += 4;
  const total = header + len;
  return b.length < total ? null : { opcode, header, total };
}
