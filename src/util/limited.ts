/**
 * Runs tasks with at most `concurrency` at once, started in order; the first failure aborts the
 * others (through the signal each task gets) and is what this throws, once every started task
 * has ended, so nothing is still writing when the caller cleans up.
 */
export async function runLimited<T>(
  tasks: ReadonlyArray<(signal: AbortSignal) => Promise<T>>,
  options: { concurrency: number; signal?: AbortSignal | undefined },
): Promise<T[]> {
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const results: T[] = new Array(tasks.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < tasks.length && !failure) {
      const index = next++;
      try {
        signal.throwIfAborted();
        results[index] = await tasks[index]!(signal);
      } catch (error) {
        if (!failure) {
          failure = { error: signal.aborted && !controller.signal.aborted ? signal.reason : error };
          controller.abort(error);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, tasks.length)) }, worker));
  if (failure) throw failure.error;
  return results;
}

/**
 * A gate for calls made from anywhere (a recursion, a memoised resolver): at most `max` of the
 * functions passed run at once, the others wait in order. Hold it around the I/O only, never
 * around a call that waits on the gate itself.
 */
export function limiter(max: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: Array<() => void> = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= max) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}
