import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { daemonInfo, type InsecureRegistries } from "./system.js";

/**
 * What Docker's own configuration says about a registry: how image references name it, the
 * credentials `docker login` stored for it, and whether the daemon would speak plain HTTP to it.
 * (The registry's HTTP API itself is spoken by src/registry/.)
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
export function daemonInsecureRegistries(): Promise<InsecureRegistries> {
  insecureRegistries ??= daemonInfo().then(
    (info) => info.insecureRegistries,
    () => ({ names: [], cidrs: ["127.0.0.0/8"] }),
  );
  return insecureRegistries;
}

/** A user name and password (or token) for a registry, as `docker login` stores them. */
export interface Credentials {
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

/** `registry/repo:tag` or `repo@digest` -> repository reference and tag (default latest). */
export function splitImageReference(image: string): { repository: string; tag: string } {
  const at = image.indexOf("@");
  if (at > 0) return { repository: image.slice(0, at), tag: image.slice(at + 1) };
  const colon = image.lastIndexOf(":");
  if (colon > image.lastIndexOf("/")) return { repository: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { repository: image, tag: "latest" };
}
