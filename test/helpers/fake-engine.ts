import { createHash } from "node:crypto";
// A fake Docker engine for unit tests of the executor's control flow: the one boundary those
// tests mock (src/docker/engine.ts's DockerEngine). It keeps containers, images and volumes in
// memory and "runs" a builder by reading the rewritten cmake_build copied into it: for each
// section it prints the begin marker, a few lines, and the end marker, or fails, or hangs until
// the run is interrupted, as each component's behaviour says. Copying the install tree out
// writes a small file per finished component where build.py's sections put them.
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { DockerEngine, EngineCallOptions } from "../../src/docker/engine.js";
import type { ContainerSpec } from "../../src/docker/container.js";
import type { ImageBuildRequest } from "../../src/docker/image-build.js";
import type { DaemonInfo } from "../../src/docker/system.js";
import { EnvironmentError } from "../../src/errors.js";

/**
 * ok: ends; fail: exits 2 in the middle; hang: never ends (until the run is interrupted);
 * end-then-hang: ends, but its builder keeps running (as after the last section) until interrupted.
 */
export type Behaviour = "ok" | "fail" | "hang" | "end-then-hang";

interface FakeContainer {
  spec: ContainerSpec;
  script: string;
  finished: string[];
  running: boolean;
}

const GB = 2 ** 30;

export class FakeEngine implements DockerEngine {
  readonly calls: string[] = [];
  readonly containers = new Map<string, FakeContainer>();
  /** Names of every container ever created, in order. */
  readonly created: string[] = [];
  /** Containers a builder's nested docker build made (through its docker wrapper). */
  readonly nestedContainers: string[] = [];
  readonly images = new Set<string>();
  /** Tags that name the same image as another reference (tagImage), by the image's id. */
  readonly imageIds = new Map<string, string>();
  readonly volumes = new Map<string, Record<string, string>>();
  /** The scripts builders ran, by container name. */
  readonly scripts = new Map<string, string>();
  /** Other files copied into containers (the nested docker wrapper): "container:path" -> content. */
  readonly copiedFiles = new Map<string, string>();
  behaviour: Record<string, Behaviour> = {};
  /** Called when a component's begin marker is printed (tests use it to interrupt at a point). */
  onBegin: (component: string) => void = () => undefined;
  /** A component does what its behaviour says only once this settles (orders components in time). */
  waitFor: Record<string, Promise<unknown>> = {};
  /** The engine stops answering (as a stopped daemon): every call fails from now on. */
  down = false;
  /** Whether the engine goes down when one of these components starts. */
  downWhenStarting = new Set<string>();

  constructor(
    readonly name: string,
    private readonly machine: { cpus: number; memoryBytes: number } = { cpus: 2, memoryBytes: 8 * GB },
  ) {}

  private check(call: string): void {
    this.calls.push(call);
    if (this.down) throw new EnvironmentError(`the Docker daemon is not reachable: engine ${this.name} is down`);
  }

  async info(_options?: EngineCallOptions): Promise<DaemonInfo> {
    this.check("info");
    return {
      serverVersion: "20.10.24",
      rootDir: "/var/lib/docker",
      storageDriver: "vfs",
      os: "linux",
      arch: "x86_64",
      cpus: this.machine.cpus,
      memoryBytes: this.machine.memoryBytes,
      insecureRegistries: { names: [], cidrs: [] },
    };
  }

  async inspectImage(ref: string) {
    this.check(`inspect ${ref}`);
    if (!this.images.has(ref) && !ref.startsWith("fixture/")) return undefined;
    return { id: this.imageIdOf(ref), repoDigests: [], env: {}, labels: {}, size: 1 };
  }

  imageIdOf(ref: string): string {
    return this.imageIds.get(ref) ?? `sha256:${createHash("sha256").update(ref).digest("hex")}`;
  }

  async buildImage(request: ImageBuildRequest): Promise<string> {
    this.check(`build ${request.tag}`);
    this.images.add(request.tag);
    return this.imageIdOf(request.tag);
  }

  async tagImage(source: string, target: string): Promise<void> {
    this.check(`tag ${source} ${target}`);
    this.images.add(target);
    this.imageIds.set(target, this.imageIdOf(source));
  }

  async untagImage(ref: string): Promise<void> {
    this.check(`untag ${ref}`);
    this.images.delete(ref);
  }

  async listImageReferences(): Promise<string[]> {
    this.check("images");
    return [...this.images];
  }

  async listRepositoryTags(repository: string): Promise<Array<{ tag: string; createdAt: Date }>> {
    this.check(`images ${repository}`);
    return [...this.images]
      .filter((i) => i.startsWith(`${repository}:`))
      .map((i, index) => ({ tag: i.slice(repository.length + 1), createdAt: new Date(index * 1000) }));
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    this.check(`create ${spec.name}`);
    if (this.containers.has(spec.name)) throw new Error(`container name ${spec.name} already in use`);
    this.containers.set(spec.name, { spec, script: "", finished: [], running: false });
    this.created.push(spec.name);
    return spec.name;
  }

  async copyIntoContainer(container: string, hostPath: string, containerPath: string): Promise<void> {
    this.check(`cp-in ${container}`);
    const found = this.containers.get(container);
    if (!found) throw new Error(`no container ${container}`);
    if ((await stat(hostPath)).isDirectory()) {
      for (const name of await readdir(hostPath)) {
        this.copiedFiles.set(`${container}:${path.posix.join(containerPath, name)}`, await readFile(path.join(hostPath, name), "utf8"));
      }
      return;
    }
    found.script = await readFile(hostPath, "utf8");
    this.scripts.set(container, found.script);
  }

  async startAttached(container: string, options: { signal?: AbortSignal; onChunk: (chunk: Buffer) => Promise<void> | undefined }): Promise<number> {
    this.check(`start ${container}`);
    const found = this.containers.get(container);
    if (!found) throw new Error(`no container ${container}`);
    found.running = true;
    const signal = options.signal;
    const print = async (text: string) => {
      await options.onChunk(Buffer.from(text));
      await new Promise((resolve) => setImmediate(resolve));
      if (signal?.aborted) throw signal.reason;
    };
    const untilInterrupted = () =>
      new Promise((_, reject) => {
        if (signal?.aborted) reject(signal.reason);
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    let lingers = false;
    try {
      for (const [, nonce, edge, name] of found.script.matchAll(/printf '%s:%s:%s:%s\\n' '@@triton-build' '([0-9a-f]+)' '(begin|end)' '([^']+)'/g)) {
        if (edge === "end") {
          found.finished.push(name as string);
          await print(`@@triton-build:${nonce}:end:${name}\n`);
          continue;
        }
        await print(`@@triton-build:${nonce}:begin:${name}\n`);
        this.onBegin(name as string);
        if (this.downWhenStarting.has(name as string)) {
          this.down = true;
          return 1;
        }
        if (name === "onnxruntime") this.nestedBuild(container, name);
        await print(`[ 50%] Building CXX object ${name}.cc.o\n`);
        await this.waitFor[name as string];
        const behaviour = this.behaviour[name as string] ?? "ok";
        if (behaviour === "end-then-hang") lingers = true;
        if (behaviour === "fail") {
          await print(`error: fixture build failure in ${name}\n`);
          return 2;
        }
        if (behaviour === "hang") await untilInterrupted();
      }
      if (lingers) await untilInterrupted();
      return 0;
    } finally {
      found.running = false;
    }
  }

  /**
   * What ONNX Runtime's nested build leaves on the engine through the builder's docker wrapper
   * (nested-docker.ts): an image and a container under names of the wrapper's run and component,
   * the container with the wrapper's labels.
   */
  private nestedBuild(container: string, component: string): void {
    const wrapper = this.copiedFiles.get(`${container}:/workspace/build/triton-build-bin/docker`);
    const runId = /^run=(\S+)$/m.exec(wrapper ?? "")?.[1];
    if (!runId) throw new Error(`builder ${container} has no docker wrapper for its nested build`);
    this.images.add(`triton-build/tritonserver_onnxruntime:${runId}-${component}`);
    const labels = Object.fromEntries([...(wrapper ?? "").matchAll(/--label '?([^=' ]+)=([^' \n]*)/g)].map((m) => [m[1] as string, m[2] as string]));
    const name = `onnxruntime_backend_ort-${runId}-${component}`;
    this.containers.set(name, { spec: { name, image: "x", tty: false, command: [], labels }, script: "", finished: [], running: false });
    this.nestedContainers.push(name);
  }

  async killContainer(container: string): Promise<void> {
    this.check(`kill ${container}`);
    const found = this.containers.get(container);
    if (found) found.running = false;
  }

  async removeContainer(container: string): Promise<void> {
    this.check(`rm ${container}`);
    this.containers.delete(container);
  }

  async copyOut(container: string, containerPath: string, destDir: string): Promise<boolean> {
    this.check(`cp-out ${container}:${containerPath}`);
    const found = this.containers.get(container);
    if (!found) throw new Error(`no container ${container}`);
    if (containerPath !== "/tmp/tritonbuild/install" || found.finished.length === 0) return false;
    const install = path.join(destDir, "install");
    for (const name of found.finished) {
      const file =
        name === "core"
          ? "lib/libtritonserver.so"
          : name === "checksum"
            ? `repoagents/${name}/libtritonrepoagent_${name}.so`
            : `backends/${name}/libtriton_${name}.so`;
      await mkdir(path.dirname(path.join(install, file)), { recursive: true });
      await writeFile(path.join(install, file), `${name} built in ${container}\n`);
    }
    return true;
  }

  async runOnce(): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    this.check("run");
    return { exitCode: 0, stdout: "git-lfs/3.3.0", stderr: "" };
  }

  /** `label` is a name (any value) or name=value, as docker's --filter label=. */
  async listLabelledContainers(label: string) {
    this.check(`ps ${label}`);
    const [key = "", value] = label.split("=", 2);
    return [...this.containers]
      .filter(([, c]) => c.spec.labels?.[key] !== undefined && (value === undefined || c.spec.labels[key] === value))
      .map(([name, c]) => ({ name, labels: c.spec.labels ?? {} }));
  }

  async createVolume(name: string, labels: Record<string, string>): Promise<string> {
    this.check(`volume create ${name}`);
    this.volumes.set(name, labels);
    return name;
  }

  async removeVolume(name: string): Promise<void> {
    this.check(`volume rm ${name}`);
    this.volumes.delete(name);
  }

  async listLabelledVolumes(label: string) {
    this.check(`volume ls ${label}`);
    return [...this.volumes].filter(([, labels]) => labels[label] !== undefined).map(([name, labels]) => ({ name, labels }));
  }

  async endpoint(): Promise<string> {
    this.check("endpoint");
    return `unix:///var/run/${this.name}.sock`;
  }
}
