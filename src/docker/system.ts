import { EnvironmentError } from "../errors.js";
import { docker, isDaemonUnreachable, type DockerOptions } from "./cli.js";

export interface DaemonInfo {
  serverVersion: string;
  /** The daemon host's name: this machine's when the daemon runs here. */
  hostName?: string;
  rootDir: string;
  storageDriver: string;
  /** e.g. linux / x86_64: the platform images are built for. */
  os: string;
  arch: string;
  cpus?: number;
  memoryBytes?: number;
  /** Registries the daemon talks to over plain HTTP (`insecure-registries` in daemon.json). */
  insecureRegistries: InsecureRegistries;
}

export interface InsecureRegistries {
  /** Registry names (host[:port]) marked insecure. */
  names: string[];
  /** IPv4 ranges marked insecure, e.g. 127.0.0.0/8 (always there) or 10.0.0.0/8. */
  cidrs: string[];
}

/** `docker info`: the daemon's version and data root, or an EnvironmentError saying how to fix it. */
export async function daemonInfo(options: DockerOptions = {}): Promise<DaemonInfo> {
  const result = await docker(["info", "--format", "{{json .}}"], { ...options, timeoutMs: options.timeoutMs ?? 30_000 });
  const text = `${result.stdout}\n${result.stderr}`;
  if (result.exitCode !== 0 || !result.stdout.trim().startsWith("{")) {
    throw new EnvironmentError(
      `the Docker daemon is not reachable: ${result.tail.filter(Boolean).slice(-1)[0] ?? `docker info exited ${result.exitCode}`}`,
      isDaemonUnreachable(text)
        ? "start it (e.g. `sudo systemctl start docker`), check DOCKER_HOST / `docker context`, and that you may use its socket (the docker group)"
        : "run `docker info` to see what is wrong",
    );
  }
  const info = JSON.parse(result.stdout) as {
    ServerVersion?: string;
    Name?: string;
    DockerRootDir?: string;
    Driver?: string;
    ServerErrors?: string[];
    OSType?: string;
    Architecture?: string;
    NCPU?: number;
    MemTotal?: number;
    RegistryConfig?: { IndexConfigs?: Record<string, { Secure?: boolean }>; InsecureRegistryCIDRs?: string[] };
  };
  if (!info.ServerVersion) {
    throw new EnvironmentError(`the Docker daemon is not reachable: ${(info.ServerErrors ?? []).join("; ") || "no server version"}`, "start the Docker daemon");
  }
  return {
    serverVersion: info.ServerVersion,
    hostName: info.Name || undefined,
    rootDir: info.DockerRootDir ?? "/var/lib/docker",
    storageDriver: info.Driver ?? "unknown",
    os: info.OSType ?? "linux",
    arch: info.Architecture ?? "unknown",
    cpus: info.NCPU || undefined,
    memoryBytes: info.MemTotal || undefined,
    insecureRegistries: {
      names: Object.entries(info.RegistryConfig?.IndexConfigs ?? {})
        .filter(([, config]) => config.Secure === false)
        .map(([name]) => name),
      cidrs: info.RegistryConfig?.InsecureRegistryCIDRs ?? [],
    },
  };
}
