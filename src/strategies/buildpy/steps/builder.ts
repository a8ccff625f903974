import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { socketOnEngineHost, type DockerEngine } from "../../../docker/engine.js";
import { EnvironmentError } from "../../../errors.js";
import type { Emit } from "../../../run/events.js";
import { ComponentLogDemux } from "../component-logs.js";

export interface BuilderInput {
  engine: DockerEngine;
  /** The builder's number on its engine (progress and trace show it). */
  builder: number;
  containerName: string;
  image: string;
  /** The rewritten cmake_build: the sections of this builder's components only. */
  script: string;
  scriptPath: string;
  /**
   * Files put into the builder beside cmake_build: container path -> content (mode 0755), written
   * first under `toolsDir` here (one per builder: builders starting together never share it).
   */
  tools?: Record<string, string>;
  toolsDir?: string;
  nonce: string;
  tty: boolean;
  logDir: string;
  labels: Record<string, string>;
  /** An output event for every line (--verbose), not a throttled few. */
  everyLine: boolean;
  signal: AbortSignal;
  emit: Emit;
}

export interface FinishedComponent {
  name: string;
  durationMs: number;
}

export interface BuilderOutcome {
  /** The container's exit code; undefined when it was stopped (Ctrl-C, --fail-fast). */
  exitCode: number | undefined;
  /** Components whose end marker arrived: complete, even if a later one failed. */
  finished: FinishedComponent[];
  /**
   * The component that began and never ended: it failed, or was stopped, or its engine went away.
   * The caller tells which and reports its end.
   */
  unfinished?: { name: string; logPath: string; tail: string[]; startedAt: number };
  builderLogTail: string[];
}

/**
 * Runs the rewritten cmake_build in a builder container of this run on one engine. When the
 * signal aborts, compiling stops at once (the container is killed) and the outcome still lists
 * the components that had finished, so the caller can keep them. The container is left in place
 * (exited) for the caller to copy out what finished; the caller removes it.
 */
export async function runBuilder(input: BuilderInput): Promise<BuilderOutcome> {
  const { engine } = input;
  await writeFile(input.scriptPath, input.script.endsWith("\n") ? input.script : `${input.script}\n`);
  await chmod(input.scriptPath, 0o755);

  // Not cancelled by Ctrl-C: the daemon finishes a create even when the CLI is killed, and the
  // container would appear after the clean-up had looked for it. Both steps are short; the
  // abort is honoured right after them, and the clean-up then finds the container.
  await engine.createContainer({
    name: input.containerName,
    image: input.image,
    workdir: "/workspace/build",
    tty: input.tty,
    // Some backend builds (onnxruntime) run docker themselves, as with build.py: the engine's own socket.
    volumes: [`${socketOnEngineHost(await engine.endpoint())}:/var/run/docker.sock`],
    labels: input.labels,
    command: ["./cmake_build"],
  });
  await engine.copyIntoContainer(input.containerName, input.scriptPath, "/workspace/build/cmake_build");
  await copyTools(input);
  if (input.signal.aborted) return { exitCode: undefined, finished: [], builderLogTail: [] };

  const demux = new ComponentLogDemux(input.logDir, input.nonce, input.emit, {
    everyLine: input.everyLine,
    where: { engine: engine.name, builder: input.builder },
  });
  await demux.open();
  let exitCode: number | undefined;
  try {
    exitCode = await engine.startAttached(input.containerName, { signal: input.signal, onChunk: (chunk) => demux.write(chunk) });
  } catch (error) {
    if (!input.signal.aborted) throw error;
    // Stopped: nothing more may compile. The container is killed now, not at the clean-up, so
    // the finished components can be copied out of it first.
    await engine.killContainer(input.containerName).catch(() => undefined);
  } finally {
    await demux.close();
  }
  if (demux.error) {
    throw new EnvironmentError(`cannot write the build logs in ${input.logDir}: ${demux.error.message}`, "free disk space there, or choose another --work-dir");
  }
  const finished = demux.timings.flatMap((t) => (t.endedAt === undefined ? [] : [{ name: t.name, durationMs: t.endedAt - t.startedAt }]));
  const outcome: BuilderOutcome = { exitCode, finished, builderLogTail: demux.tail("builder") };
  const unfinished = demux.unfinished();
  if (unfinished) {
    outcome.unfinished = { name: unfinished.name, logPath: demux.logPath(unfinished.name), tail: demux.tail(unfinished.name), startedAt: unfinished.startedAt };
  }
  return outcome;
}

/** Each tool is written under toolsDir at its container path's base name, and that directory copied in. */
async function copyTools(input: BuilderInput): Promise<void> {
  const byDir = new Map<string, Array<[string, string]>>();
  for (const [containerPath, content] of Object.entries(input.tools ?? {})) {
    const dir = path.posix.dirname(containerPath);
    byDir.set(dir, [...(byDir.get(dir) ?? []), [path.posix.basename(containerPath), content]]);
  }
  for (const [dir, files] of byDir) {
    const hostDir = path.join(input.toolsDir ?? path.dirname(input.scriptPath), path.posix.basename(dir));
    await mkdir(hostDir, { recursive: true });
    for (const [name, content] of files) {
      await writeFile(path.join(hostDir, name), content);
      await chmod(path.join(hostDir, name), 0o755);
    }
    await input.engine.copyIntoContainer(input.containerName, hostDir, dir);
  }
}

/** Where a builder's script goes: one per builder, so builders running at once never share one. */
export function builderScriptPath(scriptDir: string, job: string): string {
  return path.join(scriptDir, job === "all" ? "cmake_build" : `cmake_build.${job}`);
}
