// A real OCI registry for shared-cache tests: Debian's docker-registry (distribution 2.8) on
// loopback with htpasswd auth, and a DOCKER_CONFIG of the test's own that is logged in to it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { execa } from "execa";

export interface TestRegistry {
  /** host:port */
  address: string;
  /** Environment for the CLI and docker: DOCKER_CONFIG logged in to this registry. */
  env: Record<string, string>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops, deletes every stored blob, starts again (an empty registry, same credentials). */
  wipe(): Promise<void>;
  tags(repository: string): Promise<string[]>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export async function startTestRegistry(dir: string): Promise<TestRegistry> {
  await mkdir(path.join(dir, "storage"), { recursive: true });
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const user = "ci";
  const password = "ci-secret";
  const htpasswd = await execa("htpasswd", ["-Bbn", user, password]);
  await writeFile(path.join(dir, "htpasswd"), String(htpasswd.stdout));
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
      "auth:",
      "  htpasswd:",
      "    realm: triton-build-test",
      `    path: ${path.join(dir, "htpasswd")}`,
      "",
    ].join("\n"),
  );
  const dockerConfig = path.join(dir, "docker-config");
  await mkdir(dockerConfig, { recursive: true });
  const env = { DOCKER_CONFIG: dockerConfig };
  let child: ChildProcess | undefined;

  const registry: TestRegistry = {
    address,
    env,
    async start() {
      child = spawn("docker-registry", ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      for (let i = 0; i < 100; i++) {
        const response = await fetch(`http://${address}/v2/`).catch(() => undefined);
        if (response) return;
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
      const auth = Buffer.from(`${user}:${password}`).toString("base64");
      const response = await fetch(`http://${address}/v2/${repository}/tags/list`, { headers: { authorization: `Basic ${auth}` } });
      if (response.status === 404) return [];
      const body = (await response.json()) as { tags?: string[] | null };
      return (body.tags ?? []).sort();
    },
  };
  await registry.start();
  await execa("docker", ["login", address, "-u", user, "--password-stdin"], { input: password, env: { ...process.env, ...env } });
  return registry;
}
