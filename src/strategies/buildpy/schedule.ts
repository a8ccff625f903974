import { GB_PER_JOB, GB_PER_JOB_TENSORRTLLM } from "./resources.js";

/**
 * How compiling is spread: how many builders an engine runs at once, in which order components
 * are handed out, which engine and builder each goes to, and how many compile jobs (-j) each
 * gets. Pure: the compile step asks, and does the Docker work.
 */

const GB = 2 ** 30;

/** The component everything else waits for: TensorRT-LLM compiles its CUDA kernels for hours. */
export function isHeavy(name: string): boolean {
  return name === "tensorrtllm";
}

/**
 * Builders an engine runs at once by default. Every builder runs at least one compile job, so
 * memory bounds them as it bounds --jobs (about 2 GB per job, 4 for TensorRT-LLM's nvcc); cores
 * allow twice their number, because builders spend much of their time waiting on clones,
 * downloads and single-threaded configure and link steps, not compiling.
 */
export function defaultBuilders(
  engine: { name: string; cpus: number; memoryBytes: number },
  components: number,
  heavy: boolean,
): { builders: number; reason: string } {
  const perJob = heavy ? GB_PER_JOB_TENSORRTLLM : GB_PER_JOB;
  const byCores = 2 * engine.cpus;
  const byMemory = Math.floor(engine.memoryBytes / GB / perJob);
  const builders = Math.max(1, Math.min(components, byCores, byMemory));
  const limit =
    builders === components
      ? `one per component to compile`
      : byMemory < byCores
        ? `memory: ${Math.round(engine.memoryBytes / GB)} GiB at about ${perJob} GB per builder${heavy ? " (TensorRT-LLM counted heavy)" : ""}`
        : `${engine.cpus} cores, two builders each`;
  return { builders, reason: `${builders} builder(s) at a time on engine ${engine.name}, limited by ${limit}; set --parallel to change` };
}

export interface JobEstimate {
  name: string;
  heavy: boolean;
  /** How long it compiled last time (the cache records it), if known. */
  estimateMs?: number;
}

/**
 * The order components are handed out: TensorRT-LLM first, then longest first by the durations
 * recorded last time, components never timed before those (they may be long: start them early).
 * With a single builder the order changes nothing but the logs, so the plan's order is kept.
 */
export function handOutOrder<T extends JobEstimate>(jobs: readonly T[], totalBuilders: number): T[] {
  if (totalBuilders <= 1) return [...jobs];
  const rank = (job: T) => (job.heavy ? Number.POSITIVE_INFINITY : (job.estimateMs ?? Number.MAX_SAFE_INTEGER));
  return jobs
    .map((job, index) => ({ job, index }))
    .sort((a, b) => rank(b.job) - rank(a.job) || a.index - b.index)
    .map(({ job }) => job);
}

/**
 * Weight of a component in the job split: its recorded duration, else a rough share (TensorRT-LLM
 * far more than core, core more than a backend).
 */
export function jobWeight(job: JobEstimate): number {
  if (job.estimateMs !== undefined) return Math.max(1, job.estimateMs);
  if (job.heavy) return 8 * 60_000;
  return job.name === "core" ? 2 * 60_000 : 60_000;
}

/**
 * Compile jobs for a component starting now: the engine's budget split between the builders
 * that run together, by weight; at least one. Alone on its engine, a component gets the whole
 * budget, as with one builder.
 */
export function jobShare(budget: number, weight: number, othersTogether: readonly number[]): number {
  const total = weight + othersTogether.reduce((sum, w) => sum + w, 0);
  return Math.max(1, Math.floor((budget * weight) / total));
}

export interface Slot {
  engine: string;
  /** 1-based number of the builder on its engine. */
  builder: number;
}

interface EngineSlots {
  name: string;
  builders: number;
  memoryBytes: number;
  busy: Set<number>;
  retired: boolean;
}

/** The builders of every engine: which are free, and which engine a job goes to. */
export class BuilderSlots {
  private readonly engines: EngineSlots[];

  constructor(engines: ReadonlyArray<{ name: string; builders: number; memoryBytes: number }>) {
    this.engines = engines.map((e) => ({ ...e, busy: new Set<number>(), retired: false }));
  }

  /**
   * A free builder for a job, or undefined when all are busy. TensorRT-LLM goes to the engine with
   * the most memory; others to the engine with the smallest share of its builders busy (so work
   * spreads over every engine), the first given on a tie.
   */
  take(job: { heavy: boolean }): Slot | undefined {
    const open = this.engines.filter((e) => !e.retired && e.busy.size < e.builders);
    if (open.length === 0) return undefined;
    const chosen = job.heavy
      ? open.reduce((best, e) => (e.memoryBytes > best.memoryBytes ? e : best))
      : open.reduce((best, e) => (e.busy.size / e.builders < best.busy.size / best.builders ? e : best));
    let builder = 1;
    while (chosen.busy.has(builder)) builder++;
    chosen.busy.add(builder);
    return { engine: chosen.name, builder };
  }

  release(slot: Slot): void {
    this.engines.find((e) => e.name === slot.engine)?.busy.delete(slot.builder);
  }

  /** An engine that failed gets no more work. */
  retire(engine: string): void {
    const found = this.engines.find((e) => e.name === engine);
    if (found) found.retired = true;
  }

  isRetired(engine: string): boolean {
    return this.engines.find((e) => e.name === engine)?.retired ?? true;
  }

  liveEngines(): string[] {
    return this.engines.filter((e) => !e.retired).map((e) => e.name);
  }

  /** Free builders on an engine. */
  freeOn(engine: string): number {
    const found = this.engines.find((e) => e.name === engine);
    return found && !found.retired ? found.builders - found.busy.size : 0;
  }
}
