// A loopback proxy in front of a test registry that misbehaves on purpose where a real network or
// registry does: blob downloads that stop mid-blob (a stalled registry), that crawl, or that are
// redirected to blob storage on another origin (as S3-backed registries answer). It records every
// request, and the storage server records whether the registry's Authorization reached it.
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type BlobBehaviour =
  | { mode: "pass" }
  /** Sends the headers and this many bytes of each blob, then nothing more (the connection stays open). */
  | { mode: "stall"; afterBytes: number }
  /** Sends each blob at this rate. */
  | { mode: "slow"; bytesPerSecond: number }
  /** Answers each blob GET the registry would serve with a 307 to the storage server. */
  | { mode: "redirect" }
  /** Changes one byte in the middle of each blob (a registry or network that corrupts data). */
  | { mode: "corrupt" };

export interface RegistryProxy {
  /** host:port of the proxy: use it as the registry's address. */
  address: string;
  blobs: BlobBehaviour;
  /** "stall": blob uploads (PATCH) stop being read after 1 MiB. */
  uploads: "pass" | "stall";
  requests: Array<{ method: string; path: string; authorization: boolean }>;
  /** Requests that reached the blob storage (redirect mode). */
  storageRequests: Array<{ path: string; authorization: boolean }>;
  /** Resolves when the next blob GET has started sending its body. */
  blobStarted(): Promise<void>;
  close(): Promise<void>;
}

const BLOB = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/;

export async function startRegistryProxy(upstream: string, credentials: { user: string; password: string }): Promise<RegistryProxy> {
  const [upstreamHost = "127.0.0.1", upstreamPort = "80"] = upstream.split(":");
  const sockets = new Set<Socket>();
  let waiters: Array<() => void> = [];
  const basic = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString("base64")}`;

  const storage = http.createServer((request, response) => {
    proxy.storageRequests.push({ path: request.url ?? "", authorization: Boolean(request.headers.authorization) });
    const blobPath = new URL(request.url ?? "/", "http://storage").pathname;
    const forwarded = http.request({ host: upstreamHost, port: upstreamPort, path: `/v2${blobPath}`, headers: { authorization: basic } }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, { "content-length": answer.headers["content-length"] ?? "" });
      answer.pipe(response);
    });
    forwarded.on("error", () => response.destroy());
    forwarded.end();
  });
  await listen(storage, sockets);
  const storageOrigin = `http://127.0.0.1:${(storage.address() as AddressInfo).port}`;

  const server = http.createServer((request, response) => {
    const pathname = new URL(request.url ?? "/", "http://proxy").pathname;
    proxy.requests.push({ method: request.method ?? "", path: pathname, authorization: Boolean(request.headers.authorization) });
    const blob = request.method === "GET" ? BLOB.exec(pathname) : null;
    const forwarded = http.request(
      { host: upstreamHost, port: upstreamPort, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        const behaviour = proxy.blobs;
        if (!blob || answer.statusCode !== 200 || behaviour.mode === "pass") {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
          if (blob && answer.statusCode === 200) started();
          return;
        }
        if (behaviour.mode === "redirect") {
          answer.destroy();
          response.writeHead(307, { location: `${storageOrigin}/${blob[1]}/blobs/${blob[2]}?X-Amz-Signature=test` }).end();
          return;
        }
        response.writeHead(200, answer.headers);
        started();
        if (behaviour.mode === "corrupt") {
          const middle = Math.floor(Number(answer.headers["content-length"] ?? 0) / 2);
          let seen = 0;
          answer.on("data", (chunk: Buffer) => {
            if (seen <= middle && middle < seen + chunk.length) {
              chunk = Buffer.from(chunk);
              chunk[middle - seen] = (chunk[middle - seen] ?? 0) ^ 0xff;
            }
            seen += chunk.length;
            response.write(chunk);
          });
          answer.on("end", () => response.end());
          return;
        }
        if (behaviour.mode === "stall") {
          let sent = 0;
          answer.on("data", (chunk: Buffer) => {
            if (sent >= behaviour.afterBytes) return;
            const part = chunk.subarray(0, behaviour.afterBytes - sent);
            sent += part.length;
            response.write(part);
            // Stop reading the registry too: what it sends is held, as a hung connection holds it.
            if (sent >= behaviour.afterBytes) answer.pause();
          });
          return;
        }
        answer.pause();
        const tick = 100;
        const perTick = Math.max(1, Math.floor((behaviour.bytesPerSecond * tick) / 1000));
        let pending = Buffer.alloc(0);
        let ended = false;
        answer.on("data", (chunk: Buffer) => {
          pending = Buffer.concat([pending, chunk]);
          if (pending.length > perTick * 4) answer.pause();
        });
        answer.on("end", () => (ended = true));
        const timer = setInterval(() => {
          if (pending.length) {
            response.write(pending.subarray(0, perTick));
            pending = pending.subarray(perTick);
          }
          if (pending.length <= perTick * 4 && !ended) answer.resume();
          if (ended && !pending.length) {
            clearInterval(timer);
            response.end();
          }
        }, tick);
        response.on("close", () => clearInterval(timer));
        answer.resume();
      },
    );
    forwarded.on("error", () => response.destroy());
    if (request.method === "PATCH" && proxy.uploads === "stall") {
      let read = 0;
      request.on("data", (chunk: Buffer) => {
        read += chunk.length;
        if (read > 2 ** 20) request.pause();
      });
      return;
    }
    request.pipe(forwarded);
  });
  await listen(server, sockets);

  function started(): void {
    const current = waiters;
    waiters = [];
    for (const resolve of current) resolve();
  }

  const proxy: RegistryProxy = {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    blobs: { mode: "pass" },
    uploads: "pass",
    requests: [],
    storageRequests: [],
    blobStarted: () => new Promise<void>((resolve) => waiters.push(resolve)),
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all([server, storage].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
  return proxy;
}

async function listen(server: http.Server, sockets: Set<Socket>): Promise<void> {
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
}
