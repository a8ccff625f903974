import { PHASE_TITLES, type Emit, type Phase } from "./events.js";

/** Runs one phase, emitting its start and its end (status and duration) around it. */
export async function timedPhase<T>(emit: Emit, phase: Phase, fn: () => Promise<T>, title?: string): Promise<T> {
  const started = performance.now();
  emit({ type: "phase-start", phase, title: title ?? PHASE_TITLES[phase] });
  try {
    const result = await fn();
    emit({ type: "phase-end", phase, status: "ok", durationMs: performance.now() - started });
    return result;
  } catch (error) {
    emit({ type: "phase-end", phase, status: "failed", durationMs: performance.now() - started, detail: String((error as Error)?.message ?? error) });
    throw error;
  }
}

/** A phase that does not apply to this run, reported so every run shows the same phases. */
export function skippedPhase(emit: Emit, phase: Phase, detail: string): void {
  emit({ type: "phase-start", phase, title: PHASE_TITLES[phase] });
  emit({ type: "phase-end", phase, status: "skipped", durationMs: 0, detail });
}
