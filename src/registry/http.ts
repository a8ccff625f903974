import http from "node:http";
import https from "node:https";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { RegistryError } from "./errors.js";

/** One HTTP exchange over node:http(s), with a streamed request body and the response body as a stream. */

export interface SendOptions {
  method: "GET" | "HEAD" | "POST" | "PATCH" | "PUT" | "DELETE";
  url: URL;
  headers?: Record<string, string>;
  /** A buffer is sent with its length; a stream is sent chunked, with backpressure. */
  body?: Buffer | AsyncIterable<Buffer>;
  agent: http.Agent;
  signal: AbortSignal;
  /** Each chunk of the request body as it is handed to the socket. */
  onSent?: (bytes: number) => void;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
  url: URL;
}

export function send(options: SendOptions): Promise<HttpResponse> {
  const { url, signal } = options;
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const headers: Record<string, string> = { ...options.headers };
    if (Buffer.isBuffer(options.body)) headers["content-length"] = String(options.body.length);
    else if (options.body) headers["transfer-encoding"] = "chunked";
    else if (options.method !== "GET" && options.method !== "HEAD") headers["content-length"] = "0";
    const request = (url.protocol === "https:" ? https : http).request(url, { method: options.method, headers, agent: options.agent, signal }, (response) => {
      resolve({ status: response.statusCode ?? 0, headers: response.headers, body: response, url });
    });
    request.on("error", (error) => reject(signal.aborted ? signal.reason : error));
    if (Buffer.isBuffer(options.body)) request.end(options.body);
    else if (options.body) {
      const count = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          options.onSent?.(chunk.length);
          callback(null, chunk);
        },
      });
      pipeline(Readable.from(options.body, { objectMode: false }), count, request).catch((error: unknown) => {
        request.destroy(signal.aborted ? (signal.reason as Error) : (error as Error));
        reject(signal.aborted ? signal.reason : error);
      });
    } else request.end();
  });
}

/** The response body as bytes, refusing more than `limit` (a registry's JSON answers are small). */
export async function readBody(response: HttpResponse, limit: number, onReceived?: (bytes: number) => void): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    onReceived?.(chunk.length);
    if (size > limit) {
      response.body.destroy();
      throw new RegistryError(`${response.url.host} answered more than ${limit} bytes for ${response.url.pathname}`, "invalid", response.status);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Reads and drops a body we do not need, so the connection can be reused. */
export async function discardBody(response: HttpResponse): Promise<void> {
  // Read to the end even when every byte has arrived: only then does the socket go back to the pool.
  response.body.resume();
  if (response.body.readableEnded || response.body.destroyed) return;
  await new Promise<void>((resolve) => {
    response.body.once("end", resolve);
    response.body.once("close", resolve);
    response.body.once("error", () => resolve());
  });
}

const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "EPIPE", "EPROTO"]);

/** Whether an error is a failure to connect or speak TLS (as opposed to an HTTP answer or an abort). */
export function isConnectionFailure(error: unknown): boolean {
  const code = String((error as NodeJS.ErrnoException)?.code ?? "");
  return UNREACHABLE_CODES.has(code) || code.startsWith("ERR_SSL") || code.startsWith("ERR_TLS") || isCertificateFailure(error);
}

export function isCertificateFailure(error: unknown): boolean {
  const code = String((error as NodeJS.ErrnoException)?.code ?? "");
  return /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME/.test(code);
}

export function describeConnectionFailure(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e?.code && !String(e.message).includes(e.code) ? `${e.message} (${e.code})` : String(e?.message ?? error);
}
