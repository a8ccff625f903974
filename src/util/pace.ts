import { setImmediate as nextTurn } from "node:timers/promises";

/**
 * For a loop of synchronous file-system calls (many small files: a synchronous lstat or read is
 * ten times cheaper than its promise through the thread pool): call the returned function once
 * per step and await it; every `sliceMs` of work it gives the event loop a turn, so timers,
 * Ctrl-C and the live view keep running.
 */
export function eventLoopPacer(sliceMs = 20): () => Promise<void> | undefined {
  let since = performance.now();
  return () => {
    if (performance.now() - since < sliceMs) return undefined;
    return nextTurn().then(() => {
      since = performance.now();
    });
  };
}
