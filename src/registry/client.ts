import { createHash } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { allowsPlainHttp, daemonInsecureRegistries, dockerCredentials, parseRepository } from "../docker/registry.js";
import type { InsecureRegistries } from "../docker/system.js";
import { basicAuthorization, type Challenge, type Credentials, parseChallenge, repositoryScope, tokenFromAnswer } from "./auth.js";
import { RegistryError } from "./errors.js";
import { describeConnectionFailure, discardBody, type HttpResponse, isCertificateFailure, isConnectionFailure, readBody, send } from "./http.js";
import { StallWatch } from "./stall.js";
import { certsDir, type RegistryTls, registryTls } from "./tls.js";

/**
 * A client of one repository of an OCI registry (the distribution API, `/v2/`), with what
 * `docker login` stored: credentials from config.json or a credential helper, Basic or Bearer
 * token auth, TLS with the CAs of `/etc/docker/certs.d/<registry>/`, plain HTTP only for
 * registries the daemon treats as insecure, and redirects to blob storage (followed without
 * the registry's Authorization header when they lead to another host). Every exchange is
 * abandoned when it makes no progress for the stall limit.
 */

export const DEFAULT_STALL_TIMEOUT_MS = 60_000;
const JSON_LIMIT = 16 * 2 ** 20;
const MAX_REDIRECTS = 5;

export interface RegistryClientOptions {
  env?: NodeJS.ProcessEnv;
  /** What the daemon treats as insecure; asked of the daemon (`docker info`) when not given. */
  insecure?: InsecureRegistries;
  stallTimeoutMs?: number;
  /** Connections kept to the registry (parallel blob transfers). */
  connections?: number;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface FetchedManifest {
  mediaType: string;
  digest: string;
  bytes: Buffer;
}

type Access = "pull" | "push";

interface Exchange {
  method: "GET" | "HEAD" | "POST" | "PATCH" | "PUT";
  /** A path under the registry (`/v2/...`) or an absolute URL (an upload location). */
  target: string;
  access: Access;
  watch: StallWatch;
  headers?: Record<string, string>;
  body?: Buffer | AsyncIterable<Buffer>;
}

export class RegistryClient {
  readonly registry: string;
  readonly repository: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly stallTimeoutMs: number;
  private readonly connections: number;
  private readonly insecureGiven: InsecureRegistries | undefined;
  private connected: Promise<URL> | undefined;
  private tls: RegistryTls = { files: [] };
  private registryAgents: { http: http.Agent; https: https.Agent } | undefined;
  private readonly otherAgents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  private challenge: Challenge | undefined;
  private credentials: Promise<Credentials | undefined> | undefined;
  /** Whether `docker login` stored credentials for the registry (known once asked). */
  private hasCredentials = false;
  private readonly tokens = new Map<string, Promise<string | undefined>>();

  /** `registry.example.com:5000/team/triton-cache` */
  constructor(reference: string, options: RegistryClientOptions = {}) {
    const ref = parseRepository(reference);
    this.registry = ref.registry;
    this.repository = ref.repository;
    this.env = options.env ?? process.env;
    this.stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    this.connections = options.connections ?? 6;
    this.insecureGiven = options.insecure;
  }

  /** Closes the kept connections. */
  close(): void {
    this.registryAgents?.http.destroy();
    this.registryAgents?.https.destroy();
    this.otherAgents.http.destroy();
    this.otherAgents.https.destroy();
  }

  watch(what: string, signal?: AbortSignal): StallWatch {
    return new StallWatch(this.stallTimeoutMs, `${this.registry}: ${what}`, signal);
  }

  private get apiHost(): string {
    return this.registry === "docker.io" ? "registry-1.docker.io" : this.registry;
  }

  /**
   * `GET /v2/`: which scheme the registry speaks (HTTPS; plain HTTP only when the daemon would
   * use it), and how it wants to be authenticated. Done once per client.
   */
  private connect(watch: StallWatch): Promise<URL> {
    this.connected ??= this.resolveBase(watch).catch((error: unknown) => {
      this.connected = undefined;
      throw error;
    });
    return this.connected;
  }

  private async resolveBase(watch: StallWatch): Promise<URL> {
    this.tls = await registryTls(this.registry, certsDir(this.env));
    const tlsOptions = {
      ...(this.tls.ca ? { ca: this.tls.ca } : {}),
      ...(this.tls.cert ? { cert: this.tls.cert, key: this.tls.key } : {}),
    };
    this.registryAgents = {
      http: new http.Agent({ keepAlive: true, maxSockets: this.connections }),
      https: new https.Agent({ keepAlive: true, maxSockets: this.connections, ...tlsOptions }),
    };
    const plainAllowed = allowsPlainHttp(this.registry, this.insecureGiven ?? (await daemonInsecureRegistries()));
    let firstFailure: unknown;
    for (const scheme of plainAllowed ? ["https", "http"] : ["https"]) {
      const base = new URL(`${scheme}://${this.apiHost}`);
      try {
        const response = await send({
          method: "GET",
          url: new URL("/v2/", base),
          agent: scheme === "https" ? this.registryAgents.https : this.registryAgents.http,
          signal: watch.signal,
        });
        watch.progress();
        await discardBody(response);
        if (response.status === 401) this.challenge = parseChallenge(header(response, "www-authenticate"));
        if (response.status === 200 || response.status === 401) return base;
        // e.g. a TLS server's 400 to plain HTTP: not a registry speaking this scheme.
        firstFailure ??= this.statusError(response, `GET ${base.origin}/v2/`);
      } catch (error) {
        if (!isConnectionFailure(error)) throw error;
        firstFailure ??= error;
      }
    }
    if (firstFailure instanceof RegistryError) throw firstFailure;
    const certificate = isCertificateFailure(firstFailure);
    throw new RegistryError(
      `cannot reach ${this.registry}: ${describeConnectionFailure(firstFailure)}${
        certificate ? ` (trusted CAs for it go in ${certsDir(this.env)}/${this.registry}/ca.crt)` : ""
      }`,
      "unreachable",
    );
  }

  private agentFor(url: URL, base: URL): http.Agent {
    const agents = url.origin === base.origin && this.registryAgents ? this.registryAgents : this.otherAgents;
    return url.protocol === "https:" ? agents.https : agents.http;
  }

  private dockerCredentials(signal: AbortSignal): Promise<Credentials | undefined> {
    this.credentials ??= dockerCredentials(this.registry, this.env, signal);
    return this.credentials;
  }

  /** The Authorization header for an access level, asking the token service when needed. */
  private async authorization(access: Access, watch: StallWatch, scope?: string): Promise<string | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    const credentials = await this.dockerCredentials(watch.signal);
    this.hasCredentials = credentials !== undefined;
    if (challenge.scheme === "basic" || !challenge.realm) return credentials ? basicAuthorization(credentials) : undefined;
    const wanted = scope ?? repositoryScope(this.repository, access);
    let token = this.tokens.get(wanted);
    if (!token) {
      token = this.fetchToken(challenge, wanted, credentials, watch);
      this.tokens.set(wanted, token);
      token.catch(() => this.tokens.delete(wanted));
    }
    const value = await token;
    return value ? `Bearer ${value}` : undefined;
  }

  private async fetchToken(challenge: Challenge, scope: string, credentials: Credentials | undefined, watch: StallWatch): Promise<string | undefined> {
    const url = new URL(challenge.realm!);
    if (challenge.service) url.searchParams.set("service", challenge.service);
    url.searchParams.set("scope", scope);
    const base = await this.connect(watch);
    const response = await send({
      method: "GET",
      url,
      headers: credentials ? { authorization: basicAuthorization(credentials) } : {},
      agent: this.agentFor(url, base),
      signal: watch.signal,
    }).catch((error: unknown) => {
      throw this.connectionError(error, watch);
    });
    watch.progress();
    const body = await readBody(response, JSON_LIMIT, () => watch.progress());
    if (response.status === 401 || response.status === 403) {
      throw new RegistryError(
        `${this.registry} token service refused ${credentials ? "the stored credentials" : `access without credentials (run \`docker login ${this.registry}\`)`}`,
        "denied",
        response.status,
      );
    }
    if (response.status !== 200) throw new RegistryError(`${this.registry} token service answered ${response.status}`, "unreachable", response.status);
    try {
      return tokenFromAnswer(JSON.parse(body.toString("utf8")));
    } catch {
      throw new RegistryError(`${this.registry} token service answered something that is not JSON`, "invalid");
    }
  }

  private connectionError(error: unknown, watch: StallWatch): unknown {
    if (watch.signal.aborted) return watch.signal.reason;
    if (error instanceof RegistryError) return error;
    if (isConnectionFailure(error)) return new RegistryError(`cannot reach ${this.registry}: ${describeConnectionFailure(error)}`, "unreachable");
    return error;
  }

  /**
   * One exchange with the registry: authorized for its access level (fetching a token on a
   * challenge, and trying once more when a bodiless or buffered request was refused), and for
   * GET/HEAD with redirects followed; the registry's Authorization goes only to the registry's origin.
   */
  private async exchange(op: Exchange): Promise<HttpResponse> {
    const base = await this.connect(op.watch);
    let url = new URL(op.target, base);
    const replayable = !op.body || Buffer.isBuffer(op.body);
    let retriedAuth = false;
    for (let hop = 0; ; hop++) {
      const sameOrigin = url.origin === base.origin;
      const authorization = sameOrigin ? await this.authorization(op.access, op.watch) : undefined;
      let response: HttpResponse;
      try {
        response = await send({
          method: op.method,
          url,
          headers: { ...op.headers, ...(authorization ? { authorization } : {}) },
          ...(op.body && hop === 0 ? { body: op.body } : {}),
          agent: this.agentFor(url, base),
          signal: op.watch.signal,
          onSent: () => op.watch.progress(),
        });
      } catch (error) {
        throw this.connectionError(error, op.watch);
      }
      op.watch.progress();
      if (response.status === 401 && sameOrigin && replayable && !retriedAuth) {
        // The first challenge (no /v2/ challenge seen), or a token without enough scope: ask again.
        const challenge = parseChallenge(header(response, "www-authenticate"));
        await discardBody(response);
        if (!challenge) throw this.statusError(response, `${op.method} ${url.pathname}`);
        this.challenge = challenge;
        this.tokens.clear();
        retriedAuth = true;
        hop--;
        continue;
      }
      const location = header(response, "location");
      if ((op.method === "GET" || op.method === "HEAD") && [301, 302, 303, 307, 308].includes(response.status) && location) {
        await discardBody(response);
        if (hop >= MAX_REDIRECTS) throw new RegistryError(`${this.registry}: too many redirects for ${op.target}`, "invalid", response.status);
        url = new URL(location, url);
        continue;
      }
      return response;
    }
  }

  /** An error for an answer we did not expect, with the registry's own error message when it sent one. */
  private statusError(response: HttpResponse, what: string, detail?: string): RegistryError {
    const status = response.status;
    const failure =
      status === 401 || status === 403 ? "denied" : status === 404 ? "missing" : status >= 500 || status === 429 || status === 408 ? "unreachable" : "invalid";
    const reason =
      status === 401
        ? this.hasCredentials
          ? `refused the stored credentials (check \`docker login ${this.registry}\`)`
          : `refused access (no credentials; run \`docker login ${this.registry}\`)`
        : status === 403
          ? "denied access"
          : `answered ${status}`;
    return new RegistryError(`${this.registry} ${reason} to ${what}${detail ? `: ${detail}` : ""}`, failure, status);
  }

  private async failure(response: HttpResponse, what: string): Promise<RegistryError> {
    const body = await readBody(response, JSON_LIMIT).catch(() => Buffer.alloc(0));
    let detail: string | undefined;
    try {
      const parsed = JSON.parse(body.toString("utf8")) as { errors?: Array<{ code?: string; message?: string }> };
      detail = parsed.errors?.map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ") || undefined;
    } catch {
      detail = undefined;
    }
    return this.statusError(response, what, detail);
  }

  /** A manifest by tag or digest; undefined when the registry has none. */
  async manifest(reference: string, accept: string[], signal?: AbortSignal): Promise<FetchedManifest | undefined> {
    const watch = this.watch(`manifest ${reference}`, signal);
    try {
      const response = await this.exchange({
        method: "GET",
        target: `/v2/${this.repository}/manifests/${reference}`,
        access: "pull",
        watch,
        headers: { accept: accept.join(", ") },
      });
      if (response.status === 404) {
        await discardBody(response);
        return undefined;
      }
      if (response.status !== 200) throw await this.failure(response, `get manifest ${reference}`);
      const bytes = await readBody(response, JSON_LIMIT, () => watch.progress());
      const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
      const claimed = header(response, "docker-content-digest");
      if (reference.startsWith("sha256:") && reference !== digest)
        throw new RegistryError(`${this.registry}: manifest ${reference} has digest ${digest}`, "invalid");
      if (claimed && claimed !== digest && claimed.startsWith("sha256:"))
        throw new RegistryError(`${this.registry}: manifest ${reference} is not what its digest says`, "invalid");
      const mediaType = (header(response, "content-type") ?? "").split(";")[0]!.trim();
      return { mediaType, digest, bytes };
    } finally {
      watch.stop();
    }
  }

  /** The digest a tag points to, without fetching the manifest; undefined when there is no such tag. */
  async manifestDigest(reference: string, accept: string[], signal?: AbortSignal): Promise<string | undefined> {
    const watch = this.watch(`manifest ${reference}`, signal);
    try {
      const response = await this.exchange({
        method: "HEAD",
        target: `/v2/${this.repository}/manifests/${reference}`,
        access: "pull",
        watch,
        headers: { accept: accept.join(", ") },
      });
      await discardBody(response);
      if (response.status === 404) return undefined;
      if (response.status !== 200) throw this.statusError(response, `look up ${reference}`);
      return header(response, "docker-content-digest") ?? "unknown-digest";
    } finally {
      watch.stop();
    }
  }

  async putManifest(tag: string, mediaType: string, bytes: Buffer, signal?: AbortSignal): Promise<string> {
    const watch = this.watch(`put manifest ${tag}`, signal);
    try {
      const response = await this.exchange({
        method: "PUT",
        target: `/v2/${this.repository}/manifests/${tag}`,
        access: "push",
        watch,
        headers: { "content-type": mediaType },
        body: bytes,
      });
      if (response.status !== 201 && response.status !== 200) throw await this.failure(response, `put manifest ${tag}`);
      await discardBody(response);
      return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    } finally {
      watch.stop();
    }
  }

  /**
   * A blob's bytes as they arrive, checked against its digest and size: the iteration throws at
   * the end (before its last chunk is handed on) when they do not match, so a consumer that
   * commits only after the iteration ends never commits wrong bytes.
   */
  async *blob(descriptor: { digest: string; size: number }, signal?: AbortSignal, onBytes?: (bytes: number) => void): AsyncGenerator<Buffer> {
    const watch = this.watch(`blob ${descriptor.digest.slice(0, 19)}`, signal);
    try {
      const response = await this.exchange({ method: "GET", target: `/v2/${this.repository}/blobs/${descriptor.digest}`, access: "pull", watch });
      if (response.status !== 200) throw await this.failure(response, `get blob ${descriptor.digest}`);
      const hash = createHash("sha256");
      let size = 0;
      let held: Buffer | undefined;
      try {
        for await (const chunk of response.body as AsyncIterable<Buffer>) {
          watch.progress();
          hash.update(chunk);
          size += chunk.length;
          if (size > descriptor.size) throw new RegistryError(`${this.registry}: blob ${descriptor.digest} is larger than ${descriptor.size} bytes`, "invalid");
          if (held) {
            yield held;
            onBytes?.(held.length);
          }
          held = chunk;
        }
      } catch (error) {
        throw this.connectionError(error, watch);
      }
      const digest = `sha256:${hash.digest("hex")}`;
      if (size !== descriptor.size || digest !== descriptor.digest) {
        throw new RegistryError(`${this.registry}: blob ${descriptor.digest} arrived as ${size} bytes with digest ${digest}`, "invalid");
      }
      if (held) {
        yield held;
        onBytes?.(held.length);
      }
    } finally {
      watch.stop();
    }
  }

  /** Whether the registry has a blob (so an upload can be skipped). */
  async hasBlob(digest: string, signal?: AbortSignal): Promise<boolean> {
    const watch = this.watch(`blob ${digest.slice(0, 19)}`, signal);
    try {
      const response = await this.exchange({ method: "HEAD", target: `/v2/${this.repository}/blobs/${digest}`, access: "push", watch });
      await discardBody(response);
      if (response.status === 200) return true;
      if (response.status === 404) return false;
      throw this.statusError(response, `look up blob ${digest}`);
    } finally {
      watch.stop();
    }
  }

  /**
   * Uploads a blob whose digest is known only at its end, as `docker push` does: POST to open an
   * upload, one PATCH streaming the bytes, PUT with the digest computed on the way.
   */
  async pushBlob(source: AsyncIterable<Buffer>, signal?: AbortSignal): Promise<{ digest: string; size: number }> {
    const watch = this.watch("blob upload", signal);
    try {
      const location = await this.openUpload(watch);
      const hash = createHash("sha256");
      let size = 0;
      async function* counted(): AsyncGenerator<Buffer> {
        for await (const chunk of source) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      }
      const patched = await this.exchange({
        method: "PATCH",
        target: location,
        access: "push",
        watch,
        headers: { "content-type": "application/octet-stream" },
        body: counted(),
      });
      if (patched.status !== 202) throw await this.failure(patched, "upload a blob");
      await discardBody(patched);
      const digest = `sha256:${hash.digest("hex")}`;
      await this.closeUpload(header(patched, "location") ?? location, digest, undefined, watch);
      return { digest, size };
    } finally {
      watch.stop();
    }
  }

  /** Uploads a small blob held in memory (a config, a manifest layer), unless the registry has it. */
  async pushBytes(bytes: Buffer, signal?: AbortSignal): Promise<{ digest: string; size: number }> {
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    if (await this.hasBlob(digest, signal)) return { digest, size: bytes.length };
    const watch = this.watch("blob upload", signal);
    try {
      await this.closeUpload(await this.openUpload(watch), digest, bytes, watch);
      return { digest, size: bytes.length };
    } finally {
      watch.stop();
    }
  }

  private async openUpload(watch: StallWatch): Promise<string> {
    const response = await this.exchange({ method: "POST", target: `/v2/${this.repository}/blobs/uploads/`, access: "push", watch });
    if (response.status !== 202) throw await this.failure(response, "start an upload");
    await discardBody(response);
    const location = header(response, "location");
    if (!location) throw new RegistryError(`${this.registry} opened an upload without a location`, "invalid");
    return location;
  }

  private async closeUpload(location: string, digest: string, bytes: Buffer | undefined, watch: StallWatch): Promise<void> {
    const url = new URL(location, `https://${this.apiHost}`);
    url.searchParams.set("digest", digest);
    const target = /^https?:\/\//.test(location) ? url.toString() : `${url.pathname}${url.search}`;
    const response = await this.exchange({
      method: "PUT",
      target,
      access: "push",
      watch,
      ...(bytes ? { body: bytes, headers: { "content-type": "application/octet-stream" } } : {}),
    });
    if (response.status !== 201) throw await this.failure(response, "finish an upload");
    await discardBody(response);
  }

  /** Every tag of the repository (following pagination); [] when the repository does not exist yet. */
  async tags(signal?: AbortSignal): Promise<string[]> {
    const watch = this.watch("tag list", signal);
    try {
      const tags: string[] = [];
      let next: string | undefined = `/v2/${this.repository}/tags/list?n=1000`;
      while (next) {
        const response = await this.exchange({ method: "GET", target: next, access: "pull", watch });
        if (response.status === 404) {
          await discardBody(response);
          return tags;
        }
        if (response.status !== 200) throw await this.failure(response, "list tags");
        const body = await readBody(response, JSON_LIMIT, () => watch.progress());
        let parsed: { tags?: string[] | null };
        try {
          parsed = JSON.parse(body.toString("utf8")) as { tags?: string[] | null };
        } catch {
          throw new RegistryError(`${this.registry} answered a tag listing that is not JSON`, "invalid");
        }
        tags.push(...(parsed.tags ?? []));
        const link = /<([^>]+)>;\s*rel="next"/.exec(header(response, "link") ?? "")?.[1];
        next = link ? (/^https?:\/\//.test(link) ? `${new URL(link).pathname}${new URL(link).search}` : link) : undefined;
      }
      return tags;
    } finally {
      watch.stop();
    }
  }
}

function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
