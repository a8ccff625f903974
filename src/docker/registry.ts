import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { EnvironmentError } from "../errors.js";
import { daemonInfo, type InsecureRegistries } from "./system.js";

/**
 * The few registry API calls the docker CLI has no command for (listing tags, asking whether a
 * tag exists without pulling it), with the credentials `docker login` stored.
 */

export interface RepositoryRef {
  registry: string;
  repository: string;
}

/** `127.0.0.1:5000/triton-cache` -> registry 127.0.0.1:5000, repository triton-cache. */
export function parseRepository(reference: string): RepositoryRef {
  const [first, ...rest] = reference.split("/");
  if (rest.length && first && (first.includes(".") || first.includes(":") || first === "localhost")) {
    return { registry: first, repository: rest.join("/") };
  }
  return { registry: "docker.io", repository: reference.includes("/") ? reference : `library/${reference}` };
}

function apiHost(registry: string): string {
  return registry === "docker.io" ? "registry-1.docker.io" : registry;
}

/**
 * Whether a registry may be spoken to over plain HTTP: as the Docker daemon decides, for the
 * registries it lists as insecure (by name, or by an IPv4 range such as 127.0.0.0/8), and for
 * localhost. TLS is still tried first.
 */
export function allowsPlainHttp(registry: string, insecure: InsecureRegistries): boolean {
  const host = registry.replace(/:\d+$/, "");
  if (host === "localhost" || host === "[::1]") return true;
  if (insecure.names.includes(registry) || insecure.names.includes(host)) return true;
  const ip = ipv4(host);
  return ip !== undefined && insecure.cidrs.some((cidr) => inRange(ip, cidr));
}

function ipv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

function inRange(ip: number, cidr: string): boolean {
  const [base = "", bitsText = "32"] = cidr.split("/");
  const start = ipv4(base);
  const bits = Number(bitsText);
  if (start === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(ip / size) === Math.floor(start / size);
}

let insecureRegistries: Promise<InsecureRegistries> | undefined;
/** Asked once per process: what the daemon allows does not change during a run. */
function daemonInsecureRegistries(): Promise<InsecureRegistries> {
  insecureRegistries ??= daemonInfo().then(
    (info) => info.insecureRegistries,
    () => ({ names: [], cidrs: ["127.0.0.0/8"] }),
  );
  return insecureRegistries;
}

interface Credentials {
  username: string;
  password: string;
}

/** What `docker login` stored for a registry: config.json auths, or a credential helper. */
export async function dockerCredentials(registry: string, env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<Credentials | undefined> {
  const configDir = env.DOCKER_CONFIG || path.join(os.homedir(), ".docker");
  let config: { auths?: Record<string, { auth?: string }>; credsStore?: string; credHelpers?: Record<string, string> };
  try {
    config = JSON.parse(await readFile(path.join(configDir, "config.json"), "utf8"));
  } catch {
    return undefined;
  }
  const keys = registry === "docker.io" ? ["https://index.docker.io/v1/", "docker.io"] : [registry, `https://${registry}`, `http://${registry}`];
  const helper = keys.map((k) => config.credHelpers?.[k]).find(Boolean) ?? config.credsStore;
  if (helper) {
    const result = await execa(`docker-credential-${helper}`, ["get"], {
      input: keys[0],
      reject: false,
      timeout: 30_000,
      ...(signal ? { cancelSignal: signal } : {}),
    });
    if (result.exitCode === 0) {
      const parsed = JSON.parse(String(result.stdout)) as { Username?: string; Secret?: string };
      if (parsed.Username && parsed.Secret) return { username: parsed.Username, password: parsed.Secret };
    }
  }
  for (const key of keys) {
    const auth = config.auths?.[key]?.auth;
    if (!auth) continue;
    const [username = "", ...password] = Buffer.from(auth, "base64").toString().split(":");
    return { username, password: password.join(":") };
  }
  return undefined;
}

/** A registry that cannot be reached or refused access: this machine's set-up (exit 3), with the HTTP status when there was one. */
export class RegistryError extends EnvironmentError {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message, "check the registry's address, the network and `docker login` for it");
  }
}

const REQUEST_TIMEOUT_MS = 30_000;

function requestSignal(signal: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

/** One authenticated GET/HEAD against /v2/, with the basic or bearer-token flow registries use. */
async function registryRequest(ref: RepositoryRef, pathname: string, method: "GET" | "HEAD", accept?: string, signal?: AbortSignal): Promise<Response> {
  const credentials = await dockerCredentials(ref.registry, process.env, signal);
  const schemes = allowsPlainHttp(ref.registry, await daemonInsecureRegistries()) ? ["https", "http"] : ["https"];
  let lastError: unknown;
  for (const scheme of schemes) {
    const url = `${scheme}://${apiHost(ref.registry)}${pathname}`;
    const headers: Record<string, string> = accept ? { accept } : {};
    try {
      let response = await fetch(url, { method, headers, signal: requestSignal(signal) });
      if (response.status === 401) {
        const challenge = response.headers.get("www-authenticate") ?? "";
        const authorization = await authorize(challenge, credentials, ref, signal);
        if (!authorization) throw new RegistryError(`${ref.registry} refused access (no credentials; run \`docker login ${ref.registry}\`)`, 401);
        response = await fetch(url, { method, headers: { ...headers, authorization }, signal: requestSignal(signal) });
        if (response.status === 401 || response.status === 403) throw new RegistryError(`${ref.registry} refused the stored credentials`, response.status);
      }
      return response;
    } catch (error) {
      if (error instanceof RegistryError || signal?.aborted) throw error;
      lastError = error;
    }
  }
  throw new RegistryError(`cannot reach ${ref.registry}: ${String((lastError as Error)?.cause ?? (lastError as Error)?.message ?? lastError)}`);
}

async function authorize(challenge: string, credentials: Credentials | undefined, ref: RepositoryRef, signal?: AbortSignal): Promise<string | undefined> {
  const basic = credentials ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}` : undefined;
  if (/^basic/i.test(challenge)) return basic;
  const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  if (!/^bearer/i.test(challenge) || !params.realm) return basic;
  const url = new URL(params.realm);
  if (params.service) url.searchParams.set("service", params.service);
  url.searchParams.set("scope", `repository:${ref.repository}:pull`);
  const response = await fetch(url, { headers: basic ? { authorization: basic } : {}, signal: requestSignal(signal) });
  if (!response.ok) throw new RegistryError(`${ref.registry} token service refused access (${response.status})`, response.status);
  const body = (await response.json()) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  return token ? `Bearer ${token}` : undefined;
}

/** Every tag of a repository (following pagination); [] when the repository does not exist yet. */
export async function listTags(reference: string, signal?: AbortSignal): Promise<string[]> {
  const ref = parseRepository(reference);
  const tags: string[] = [];
  let next: string | undefined = `/v2/${ref.repository}/tags/list?n=1000`;
  while (next) {
    const response = await registryRequest(ref, next, "GET", undefined, signal);
    if (response.status === 404) return tags;
    if (!response.ok) throw new RegistryError(`${ref.registry} answered ${response.status} to a tag listing`, response.status);
    const body = (await response.json()) as { tags?: string[] | null };
    tags.push(...(body.tags ?? []));
    const link = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get("link") ?? "")?.[1];
    next = link ? (link.startsWith("http") ? new URL(link).pathname + new URL(link).search : link) : undefined;
  }
  return tags;
}

const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/**
 * The digest a tag points to (`Docker-Content-Digest`, the index digest for multi-platform
 * images): the same value `docker pull` records in RepoDigests. undefined when there is no such tag.
 */
export async function manifestDigest(reference: string, tag: string, signal?: AbortSignal): Promise<string | undefined> {
  const ref = parseRepository(reference);
  const response = await registryRequest(ref, `/v2/${ref.repository}/manifests/${tag}`, "HEAD", MANIFEST_TYPES, signal);
  if (response.status === 404) return undefined;
  if (!response.ok) throw new RegistryError(`${ref.registry} answered ${response.status} for ${reference}:${tag}`, response.status);
  return response.headers.get("docker-content-digest") ?? "unknown-digest";
}

/** Whether a tag exists in the registry, without pulling it. */
export async function tagExists(reference: string, tag: string, signal?: AbortSignal): Promise<boolean> {
  return (await manifestDigest(reference, tag, signal)) !== undefined;
}

/** `registry/repo:tag` or `repo@digest` -> repository reference and tag (default latest). */
export function splitImageReference(image: string): { repository: string; tag: string } {
  const at = image.indexOf("@");
  if (at > 0) return { repository: image.slice(0, at), tag: image.slice(at + 1) };
  const colon = image.lastIndexOf(":");
  if (colon > image.lastIndexOf("/")) return { repository: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { repository: image, tag: "latest" };
}
