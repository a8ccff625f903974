import path from "node:path";
import type { RemoteCache } from "../../cache/remote.js";
import { OciRemoteCache } from "../../cache/remote-oci.js";
import { LocalCache } from "../../cache/store.js";
import { CacheTiers } from "../../cache/tiers.js";
import { DEFAULT_ENGINE, dockerEngine, type DockerEngine } from "../../docker/engine.js";
import type { DaemonInfo } from "../../docker/system.js";
import { EnvironmentError, errorMessage, isTritonBuildError } from "../../errors.js";
import { CacheEventReporter } from "../../run/cache-events.js";
import type { Emit } from "../../run/events.js";
import { removeDeadRuns, takeLease } from "../../run/leftovers.js";
import { runNames, type RunNames } from "../../run/names.js";
import { openRunDir, pruneOldRuns, type RunDir } from "../../run/run-dir.js";
import type { BuildSettings } from "../../run/settings.js";

/** An engine the run reached, with what its daemon said about itself. */
export interface ConnectedEngine {
  engine: DockerEngine;
  info: DaemonInfo;
}

/**
 * Everything one build run works with, made once when it starts: its settings, names, directory,
 * engines and caches, where it reports, the Ctrl-C signal, and the clean-up that runs when it
 * ends. Each step of the run takes this instead of a long list of arguments.
 */
export interface RunContext {
  settings: BuildSettings;
  names: RunNames;
  runDir: RunDir;
  /** The engines to build on; the first plans (cache keys) and builds the final image. */
  engines: ConnectedEngine[];
  /** The local cache and the remote one, as one (none with --no-cache). */
  cache: CacheTiers | undefined;
  /** Turns what the cache did into events: one remote-cache warning per run. */
  cacheReport: CacheEventReporter;
  emit: Emit;
  /** Aborted by the first Ctrl-C: compiling stops, finished work is kept. */
  signal: AbortSignal;
  /** Registers a clean-up step; they run when the run ends (newest first), also after Ctrl-C. */
  onCleanup(step: () => Promise<void>): void;
}

export interface BuildRunInput {
  settings: BuildSettings;
  emit: Emit;
  signal: AbortSignal;
  /** How an engine name becomes an engine (tests pass a fake); default: the docker CLI. */
  connect?: (name: string) => DockerEngine;
  /** The shared cache; by default the one settings name, over the docker CLI. */
  remoteCache?: RemoteCache;
}

/** Clean-up steps of a run, run newest first. They never use the run's signal: they also run after Ctrl-C. */
export class CleanupSteps {
  private readonly steps: Array<() => Promise<void>> = [];

  add(step: () => Promise<void>): void {
    this.steps.push(step);
  }

  async run(emit: Emit): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      await step().catch((error: unknown) => emit({ type: "warning", message: `clean-up: ${errorMessage(error)}` }));
    }
  }
}

/**
 * Starts a run: reaches its engines (exit 3 when the first cannot be reached, before any
 * checkout), opens its directory, removes what killed runs left on each engine and takes this
 * run's lease there, and drops old run directories and half-written cache entries.
 */
export async function openRun(input: BuildRunInput, cleanup: CleanupSteps): Promise<RunContext> {
  const { settings, emit, signal } = input;
  const names = runNames(settings.runId);
  const engines = await connectEngines(settings.engines, input.connect ?? dockerEngine, emit, signal);
  const runDir = await openRunDir(settings.workDir);
  cleanup.add(() => runDir.release());
  for (const { engine } of engines) {
    await removeDeadRuns(engine, emit, signal);
    try {
      cleanup.add(await takeLease(engine, names, settings.runId));
    } catch (error) {
      if (signal.aborted) throw error;
      // Only the clean-up after a kill -9 depends on it: not a reason to fail the build.
      emit({
        type: "warning",
        message: `no lease on engine ${engine.name} (${errorMessage(error)}): if this run is killed, the next one cannot tell its leftovers`,
      });
    }
  }
  if (!settings.workDirGiven) await pruneOldRuns(path.dirname(settings.workDir)).catch(() => undefined);
  const local = settings.noCache ? undefined : new LocalCache(settings.cacheDir);
  // Half-written entries of runs killed with -9 (possibly many GB): gone before this run adds more.
  await local?.cleanTemp().catch(() => undefined);
  const remote = !local
    ? undefined
    : (input.remoteCache ??
      (settings.remoteCache
        ? new OciRemoteCache(settings.remoteCache, settings.remoteCacheMode, { stallTimeoutMs: settings.remoteCacheStallTimeout * 1000 })
        : undefined));
  const cache = local ? new CacheTiers(local, remote, settings.cacheSigningKey) : undefined;
  const cacheReport = new CacheEventReporter(emit, remote?.repository);
  return { settings, names, runDir, engines, cache, cacheReport, emit, signal, onCleanup: (step) => cleanup.add(step) };
}

/**
 * The engines named with --engine (the docker CLI's own when none): every name must be a Docker
 * context (exit 2 otherwise). The first must answer (exit 3); another that does not is left out
 * with a warning. All must build for the first one's platform, or their components would not fit.
 */
async function connectEngines(names: readonly string[], connect: (name: string) => DockerEngine, emit: Emit, signal: AbortSignal): Promise<ConnectedEngine[]> {
  const given = names.length > 0;
  const engines = (given ? [...new Set(names)] : [DEFAULT_ENGINE]).map(connect);
  if (given) for (const engine of engines) await engine.endpoint({ signal });
  const connected: ConnectedEngine[] = [];
  for (const [index, engine] of engines.entries()) {
    try {
      connected.push({ engine, info: await engine.info({ signal }) });
    } catch (error) {
      if (index === 0 || signal.aborted || !isTritonBuildError(error)) throw given ? onEngine(engine, error) : error;
      emit({ type: "warning", message: `engine ${engine.name} is left out: ${errorMessage(error)}` });
    }
  }
  const [first, ...others] = connected;
  for (const other of others) {
    if (first && (other.info.os !== first.info.os || other.info.arch !== first.info.arch)) {
      throw new EnvironmentError(
        `engine ${other.engine.name} builds for ${other.info.os}/${other.info.arch}, engine ${first.engine.name} for ${first.info.os}/${first.info.arch}`,
        "give engines of one platform: components compiled on one would not run in an image of the other",
      );
    }
  }
  return connected;
}

function onEngine(engine: DockerEngine, error: unknown): unknown {
  if (error instanceof EnvironmentError) return new EnvironmentError(`engine ${engine.name}: ${error.message}`, error.hint, error);
  return error;
}
