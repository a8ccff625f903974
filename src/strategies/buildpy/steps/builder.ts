import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { copyIntoContainer, createContainer, startAttached } from "../../../docker/container.js";
import { EnvironmentError } from "../../../errors.js";
import { ComponentLogDemux } from "../component-logs.js";
import type { Emit } from "../../../run/events.js";

export interface BuilderInput {
  containerName: string;
  image: string;
  /** The rewritten cmake_build. */
  script: string;
  /** Files put into the builder beside cmake_build: container path -> content (mode 0755). */
  tools?: Record<string, string>;
  scriptDir: string;
  nonce: string;
  tty: boolean;
  logDir: string;
  labels: Record<string, string>;
  /** An output event for every line (--verbose), not a throttled few. */
  everyLine: boolean;
  signal: AbortSignal;
  emit: Emit;
}

export interface BuilderOutcome {
  exitCode: number;
  /** Components whose end marker arrived: complete, even if a later one failed. */
  finished: Array<{ name: string; durationMs: number }>;
  /** The component that began and never ended. */
  failed?: { name: string; logPath: string; tail: string[] };
  builderLogTail: string[];
}

/**
 * Runs the rewritten cmake_build in a builder container made for this run. The container is
 * left in place (exited) so the caller can copy out what finished; the caller removes it.
 */
export async function runBuilder(input: BuilderInput): Promise<BuilderOutcome> {
  const scriptPath = path.join(input.scriptDir, "cmake_build");
  await writeFile(scriptPath, input.script.endsWith("\n") ? input.script : `${input.script}\n`);
  await chmod(scriptPath, 0o755);

  // Not cancelled by Ctrl-C: the daemon finishes a create even when the CLI is killed, and the
  // container would appear after the clean-up had looked for it. Both steps are short; the
  // abort is honoured right after them, and the clean-up then finds the container.
  await createContainer({
    name: input.containerName,
    image: input.image,
    workdir: "/workspace/build",
    tty: input.tty,
    // Some backend builds (onnxruntime) run docker themselves, as with build.py.
    volumes: ["/var/run/docker.sock:/var/run/docker.sock"],
    labels: input.labels,
    command: ["./cmake_build"],
  });
  await copyIntoContainer(input.containerName, scriptPath, "/workspace/build/cmake_build");
  await copyTools(input);
  input.signal.throwIfAborted();

  const demux = new ComponentLogDemux(input.logDir, input.nonce, input.emit, { everyLine: input.everyLine });
  await demux.open();
  let exitCode: number;
  try {
    exitCode = await startAttached(input.containerName, { signal: input.signal, onChunk: (chunk) => demux.write(chunk) });
  } catch (error) {
    const running = demux.unfinished();
    if (running && input.signal.aborted) {
      input.emit({
        type: "component-end",
        name: running.name,
        status: "interrupted",
        durationMs: Date.now() - running.startedAt,
        logPath: demux.logPath(running.name),
      });
    }
    throw error;
  } finally {
    await demux.close();
  }
  if (demux.error) {
    throw new EnvironmentError(`cannot write the build logs in ${input.logDir}: ${demux.error.message}`, "free disk space there, or choose another --work-dir");
  }
  const unfinished = demux.unfinished();
  const finished = demux.timings.flatMap((t) => (t.endedAt === undefined ? [] : [{ name: t.name, durationMs: t.endedAt - t.startedAt }]));
  const outcome: BuilderOutcome = { exitCode, finished, builderLogTail: demux.tail("builder") };
  if (unfinished) {
    const logPath = demux.logPath(unfinished.name);
    const durationMs = Date.now() - unfinished.startedAt;
    input.emit({ type: "component-end", name: unfinished.name, status: "failed", durationMs, logPath });
    outcome.failed = { name: unfinished.name, logPath, tail: demux.tail(unfinished.name) };
  }
  return outcome;
}

/** Each tool is written under scriptDir at its container path and that directory copied in. */
async function copyTools(input: BuilderInput): Promise<void> {
  const byDir = new Map<string, Array<[string, string]>>();
  for (const [containerPath, content] of Object.entries(input.tools ?? {})) {
    const dir = path.posix.dirname(containerPath);
    byDir.set(dir, [...(byDir.get(dir) ?? []), [path.posix.basename(containerPath), content]]);
  }
  for (const [dir, files] of byDir) {
    const hostDir = path.join(input.scriptDir, path.posix.basename(dir));
    await mkdir(hostDir, { recursive: true });
    for (const [name, content] of files) {
      await writeFile(path.join(hostDir, name), content);
      await chmod(path.join(hostDir, name), 0o755);
    }
    await copyIntoContainer(input.containerName, hostDir, dir);
  }
}
