// A real OCI registry for shared-cache tests: Debian's docker-registry (distribution 2.8) on
// loopback, with htpasswd (Basic) auth or Bearer tokens from a token service of the test's own,
// optionally served over TLS; and a DOCKER_CONFIG of the test's own holding its credentials, as
// `docker login` writes them.
import { spawn, type ChildProcess } from "node:child_process";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import path from "node:path";
import { execa } from "execa";
import { makeTestCa, selfSigned } from "./pki.js";
import { startTokenServer, type TokenServer } from "./token-server.js";

export interface TestRegistryOptions {
  /** Serve HTTPS with this certificate (PEM files); clients must trust its CA. */
  tls?: { cert: string; key: string; ca: string };
  /** "htpasswd" (Basic, the default) or "token" (Bearer tokens; user `reader` may only pull). */
  auth?: "htpasswd" | "token";
}

export interface TestRegistry {
  /** host:port */
  address: string;
  /** Environment for the CLI and docker: DOCKER_CONFIG with this registry's credentials. */
  env: Record<string, string>;
  user: string;
  password: string;
  /** The token service, when auth is "token". */
  tokens?: TokenServer;
  start(): Promise<void>;
  /** Stops the registry (start() brings it back with what it stored). */
  stop(): Promise<void>;
  /** Stops the registry and its token service for good. */
  close(): Promise<void>;
  /** Stops, deletes every stored blob, starts again (an empty registry, same credentials). */
  wipe(): Promise<void>;
  tags(repository: string): Promise<string[]>;
  /** A DOCKER_CONFIG dir holding other credentials for this registry. */
  dockerConfig(dir: string, user: string, password: string): Promise<Record<string, string>>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** What `docker login` leaves in DOCKER_CONFIG/config.json. */
export async function writeDockerConfig(dir: string, registry: string, user: string, password: string): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true });
  const auth = Buffer.from(`${user}:${password}`).toString("base64");
  await writeFile(path.join(dir, "config.json"), JSON.stringify({ auths: { [registry]: { auth } } }, null, 2));
  return { DOCKER_CONFIG: dir };
}

export async function startTestRegistry(dir: string, options: TestRegistryOptions = {}): Promise<TestRegistry> {
  await mkdir(path.join(dir, "storage"), { recursive: true });
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const scheme = options.tls ? "https" : "http";
  const user = "ci";
  const password = "ci-secret";
  let tokens: TokenServer | undefined;
  let authConfig: string[];
  if (options.auth === "token") {
    const signing = await selfSigned(dir, "token-signing");
    tokens = await startTokenServer({
      ...signing,
      users: { [user]: { password, actions: ["pull", "push"] }, reader: { password: "reader-secret", actions: ["pull"] } },
    });
    authConfig = [
      "auth:",
      "  token:",
      `    realm: ${tokens.realm}`,
      `    service: ${tokens.service}`,
      `    issuer: ${tokens.issuer}`,
      `    rootcertbundle: ${signing.cert}`,
    ];
  } else {
    const htpasswd = await execa("htpasswd", ["-Bbn", user, password]);
    await writeFile(path.join(dir, "htpasswd"), String(htpasswd.stdout));
    authConfig = ["auth:", "  htpasswd:", "    realm: triton-build-test", `    path: ${path.join(dir, "htpasswd")}`];
  }
  const config = path.join(dir, "config.yml");
  await writeFile(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${path.join(dir, "storage")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: ${address}`,
      ...(options.tls ? ["  tls:", `    certificate: ${options.tls.cert}`, `    key: ${options.tls.key}`] : []),
      ...authConfig,
      "",
    ].join("\n"),
  );
  const ca = options.tls ? await readFile(options.tls.ca, "utf8") : undefined;
  const agent = options.tls ? new https.Agent({ ca }) : new http.Agent();
  const env = await writeDockerConfig(path.join(dir, "docker-config"), address, user, password);
  let child: ChildProcess | undefined;

  /** A GET with the test's own credentials (Basic, or a token from the token service). */
  async function get(pathname: string): Promise<{ status: number; body: string }> {
    let authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    if (tokens) {
      const scope = /^\/v2\/(.+)\/tags\/list/.exec(pathname)?.[1];
      const answer = await request(`${tokens.realm}?service=${tokens.service}&scope=repository:${scope}:pull`, authorization, new http.Agent());
      authorization = `Bearer ${(JSON.parse(answer.body) as { token: string }).token}`;
    }
    return request(`${scheme}://${address}${pathname}`, authorization, agent);
  }

  const registry: TestRegistry = {
    address,
    env,
    user,
    password,
    ...(tokens ? { tokens } : {}),
    async start() {
      child = spawn("docker-registry", ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      for (let i = 0; i < 100; i++) {
        const up = await request(`${scheme}://${address}/v2/`, undefined, agent).then(
          () => true,
          () => false,
        );
        if (up) return;
        if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`docker-registry did not start on ${address}: ${stderr}`);
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child?.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
    async wipe() {
      await registry.stop();
      await rm(path.join(dir, "storage"), { recursive: true, force: true });
      await mkdir(path.join(dir, "storage"), { recursive: true });
      await registry.start();
    },
    async tags(repository) {
      const response = await get(`/v2/${repository}/tags/list`);
      if (response.status === 404) return [];
      const body = JSON.parse(response.body) as { tags?: string[] | null };
      return (body.tags ?? []).sort();
    },
    dockerConfig: (configDir, otherUser, otherPassword) => writeDockerConfig(configDir, address, otherUser, otherPassword),
    async close() {
      await registry.stop();
      await tokens?.stop();
    },
  };
  await registry.start();
  return registry;
}

/**
 * A test registry over TLS with a certificate from a test CA made here, and a certs directory (as
 * /etc/docker/certs.d is laid out) that trusts that CA for it: `<certs>/<host:port>/ca.crt`.
 */
export async function startTlsTestRegistry(dir: string, options: Omit<TestRegistryOptions, "tls"> = {}): Promise<{ registry: TestRegistry; certs: string }> {
  const pki = path.join(dir, "pki");
  await mkdir(pki, { recursive: true });
  const ca = await makeTestCa(pki);
  const registry = await startTestRegistry(path.join(dir, "registry"), { ...options, tls: { ...(await ca.issue("registry")), ca: ca.caCert } });
  const certs = path.join(dir, "certs.d");
  await mkdir(path.join(certs, registry.address), { recursive: true });
  await copyFile(ca.caCert, path.join(certs, registry.address, "ca.crt"));
  return { registry, certs };
}

function request(url: string, authorization: string | undefined, agent: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = (target.protocol === "https:" ? https : http).request(target, { agent, headers: authorization ? { authorization } : {} }, (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      response.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}
