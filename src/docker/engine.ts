import { UsageError } from "../errors.js";
import { docker, type DockerOptions } from "./cli.js";
import {
  copyIntoContainer,
  createContainer,
  killContainer,
  listLabelledContainers,
  removeContainer,
  runOnce,
  startAttached,
  type ContainerSpec,
} from "./container.js";
import { copyOutOfContainer } from "./copy-out.js";
import { buildImage, type BuildProgress, type ImageBuildRequest } from "./image-build.js";
import { inspectImage, listImageTags, listRepositoryTags, tagImage, untagImage, type ImageInfo } from "./image.js";
import { daemonInfo, type DaemonInfo } from "./system.js";
import { createVolume, listLabelledVolumes, removeVolume } from "./volume.js";

/** Options of one call on an engine: the engine itself is the object's. */
export type EngineCallOptions = Omit<DockerOptions, "engine">;

/**
 * One Docker engine and every docker command a run gives it, bound to that engine (a context
 * name or host URL, passed down like the AbortSignal). Each method is one adapter function of
 * this folder; a fake of this interface is the boundary unit tests mock.
 */
export interface DockerEngine {
  /** The name the user gave (`--engine`), or "default" for the CLI's own choice. */
  readonly name: string;
  info(options?: EngineCallOptions): Promise<DaemonInfo>;
  inspectImage(ref: string, options?: EngineCallOptions): Promise<ImageInfo | undefined>;
  buildImage(request: ImageBuildRequest, options?: EngineCallOptions & { onProgress?: (progress: BuildProgress, line: string) => void }): Promise<string>;
  tagImage(source: string, target: string, options?: EngineCallOptions): Promise<void>;
  untagImage(ref: string, options?: EngineCallOptions): Promise<void>;
  listImageReferences(options?: EngineCallOptions): Promise<string[]>;
  listRepositoryTags(repository: string, options?: EngineCallOptions): Promise<Array<{ tag: string; createdAt: Date }>>;
  createContainer(spec: ContainerSpec, options?: EngineCallOptions): Promise<string>;
  copyIntoContainer(container: string, hostPath: string, containerPath: string, options?: EngineCallOptions): Promise<void>;
  startAttached(container: string, options: { signal?: AbortSignal; onChunk: (chunk: Buffer) => Promise<void> | undefined }): Promise<number>;
  killContainer(container: string, options?: EngineCallOptions): Promise<void>;
  removeContainer(container: string, options?: EngineCallOptions): Promise<void>;
  /** `docker cp CONTAINER:PATH` into a directory here; false when PATH does not exist. */
  copyOut(container: string, containerPath: string, destDir: string, options?: EngineCallOptions): Promise<boolean>;
  runOnce(
    image: string,
    command: string[],
    options?: EngineCallOptions & { entrypoint?: string; labels?: Record<string, string> },
  ): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  listLabelledContainers(label: string, options?: EngineCallOptions): Promise<Array<{ name: string; labels: Record<string, string> }>>;
  createVolume(name: string, labels: Record<string, string>, options?: EngineCallOptions): Promise<string>;
  removeVolume(name: string, options?: EngineCallOptions): Promise<void>;
  listLabelledVolumes(label: string, options?: EngineCallOptions): Promise<Array<{ name: string; labels: Record<string, string> }>>;
  /** Where the CLI reaches the engine (`unix:///var/run/docker.sock`, `ssh://builder`); a usage error for an unknown context. */
  endpoint(options?: EngineCallOptions): Promise<string>;
}

export const DEFAULT_ENGINE = "default";

/** The real engine: the docker CLI with `--context NAME` (or `--host URL`); "default" adds neither. */
export function dockerEngine(name: string = DEFAULT_ENGINE): DockerEngine {
  const engine = name === DEFAULT_ENGINE ? undefined : name;
  let endpoint: Promise<string> | undefined;
  const on = <T extends object>(options: T | undefined): T & { engine?: string } => ({ ...(options ?? ({} as T)), ...(engine ? { engine } : {}) });
  return {
    name,
    info: (options) => daemonInfo(on(options)),
    inspectImage: (ref, options) => inspectImage(ref, on(options)),
    buildImage: (request, options) => buildImage(request, on(options)),
    tagImage: (source, target, options) => tagImage(source, target, on(options)),
    untagImage: (ref, options) => untagImage(ref, on(options)),
    listImageReferences: (options) => listImageTags(undefined, on(options)),
    listRepositoryTags: (repository, options) => listRepositoryTags(repository, on(options)),
    createContainer: (spec, options) => createContainer(spec, on(options)),
    copyIntoContainer: (container, hostPath, containerPath, options) => copyIntoContainer(container, hostPath, containerPath, on(options)),
    startAttached: (container, options) => startAttached(container, on(options)),
    killContainer: (container, options) => killContainer(container, on(options)),
    removeContainer: (container, options) => removeContainer(container, on(options)),
    copyOut: (container, containerPath, destDir, options) => copyOutOfContainer(container, containerPath, destDir, on(options)),
    runOnce: (image, command, options) => runOnce(image, command, on(options)),
    listLabelledContainers: (label, options) => listLabelledContainers(label, on(options)),
    createVolume: (volume, labels, options) => createVolume(volume, labels, on(options)),
    removeVolume: (volume, options) => removeVolume(volume, on(options)),
    listLabelledVolumes: (label, options) => listLabelledVolumes(label, on(options)),
    // Asked once: a context does not change during a run. A failed answer is asked again.
    endpoint: (options) => {
      endpoint ??= engineEndpoint(name, options).catch((error: unknown) => {
        endpoint = undefined;
        throw error;
      });
      return endpoint;
    },
  };
}

/** The endpoint of an engine (`unix:///var/run/docker.sock`, `ssh://host`, ...); a usage error when no such context exists. */
export async function engineEndpoint(name: string, options: EngineCallOptions = {}): Promise<string> {
  if (/^[a-z]+:\/\//.test(name)) return name;
  const context = name === DEFAULT_ENGINE ? [] : [name];
  const result = await docker(["context", "inspect", ...context, "--format", "{{.Endpoints.docker.Host}}"], { ...options, timeoutMs: 30_000 });
  const endpoint = result.stdout.trim();
  if (result.exitCode !== 0 || !endpoint) {
    throw new UsageError(
      `--engine ${name}: no such Docker context (${result.tail.filter(Boolean).at(-1) ?? `docker context inspect exited ${result.exitCode}`})`,
      "`docker context ls` lists the contexts; create one with `docker context create NAME --docker host=ssh://user@builder`",
    );
  }
  return endpoint;
}

/**
 * The engine's Docker socket as its own host sees it, for builders that run docker themselves
 * (ONNX Runtime's backend build): the path of a unix:// endpoint, else the usual one.
 */
export function socketOnEngineHost(endpoint: string): string {
  return endpoint.startsWith("unix://") ? endpoint.slice("unix://".length) : "/var/run/docker.sock";
}
