import { PHASE_TITLES, type Emit, type Phase } from "./events.js";
import { errorMessage, InterruptedError } from "../errors.js";

/** A phase, or a phase with the title a strategy gives it (compose's "plan" runs no build.py). */
export type PhaseWithTitle = Phase | { phase: Phase; title: string };

/**
 * Runs one phase, emitting its start and its end (status and duration) around it. `failedWhen`
 * marks a phase failed by its result, for a phase whose failure must not stop what follows it
 * (the builder: finished components are still collected).
 */
export async function timedPhase<T>(emit: Emit, which: PhaseWithTitle, fn: () => Promise<T>, failedWhen?: (result: T) => string | undefined): Promise<T> {
  const { phase, title } = typeof which === "string" ? { phase: which, title: PHASE_TITLES[which] } : which;
  const started = performance.now();
  emit({ type: "phase-start", phase, title });
  try {
    const result = await fn();
    const failure = failedWhen?.(result);
    emit({ type: "phase-end", phase, status: failure ? "failed" : "ok", durationMs: performance.now() - started, ...(failure ? { detail: failure } : {}) });
    return result;
  } catch (error) {
    const status = error instanceof InterruptedError ? "interrupted" : "failed";
    emit({ type: "phase-end", phase, status, durationMs: performance.now() - started, detail: errorMessage(error) });
    throw error;
  }
}

/**
 * A phase that does not apply to this run, reported so every run shows the same phases;
 * `savedMs` is what it cost when it last ran, when the cache recorded that.
 */
export function skippedPhase(emit: Emit, phase: Phase, detail: string, savedMs?: number): void {
  emit({ type: "phase-start", phase, title: PHASE_TITLES[phase] });
  emit({ type: "phase-end", phase, status: "skipped", durationMs: 0, detail, ...(savedMs !== undefined ? { savedMs } : {}) });
}
