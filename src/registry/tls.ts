import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { rootCertificates } from "node:tls";

/**
 * TLS settings for a registry as the Docker daemon takes them from `/etc/docker/certs.d/<host[:port]>/`:
 * every `*.crt` is a CA trusted for that registry in addition to the system's, and a `*.cert`
 * with the `*.key` of the same name is the client certificate. TRITON_BUILD_REGISTRY_CERTS_DIR
 * names another root (tests, or a user without access to /etc/docker).
 */

export const DEFAULT_CERTS_DIR = "/etc/docker/certs.d";

export interface RegistryTls {
  /** Trusted CAs: the system's plus the registry's own; undefined when it has none (Node's default). */
  ca?: string[];
  cert?: string;
  key?: string;
  /** Files that were read, for messages. */
  files: string[];
}

export function certsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.TRITON_BUILD_REGISTRY_CERTS_DIR || DEFAULT_CERTS_DIR;
}

export async function registryTls(registry: string, root: string): Promise<RegistryTls> {
  const dir = path.join(root, registry);
  const names = (await readdir(dir).catch(() => [] as string[])).sort();
  const read = (name: string) => readFile(path.join(dir, name), "utf8");
  const cas = await Promise.all(names.filter((n) => n.endsWith(".crt")).map(read));
  const certName = names.find((n) => n.endsWith(".cert") && names.includes(`${n.slice(0, -".cert".length)}.key`));
  const result: RegistryTls = { files: names.filter((n) => n.endsWith(".crt") || n === certName).map((n) => path.join(dir, n)) };
  if (cas.length) result.ca = [...rootCertificates, ...cas];
  if (certName) {
    result.cert = await read(certName);
    result.key = await read(`${certName.slice(0, -".cert".length)}.key`);
    result.files.push(path.join(dir, `${certName.slice(0, -".cert".length)}.key`));
  }
  return result;
}
