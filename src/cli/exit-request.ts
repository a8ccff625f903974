import type { ExitCodeValue } from "../errors.js";

/**
 * Ending the process belongs to the entry point (only main.ts exits). A signal handler that must
 * end the run at once — a second Ctrl-C during a build, Ctrl-C during `plan` after its scratch
 * dir is removed — cannot throw to main.ts, so it asks here, and the handler main.ts installed
 * does it. With no handler installed (unit tests) a request only reaches the listeners.
 */
export type ExitHandler = (code: ExitCodeValue) => void;

let handler: ExitHandler | undefined;

/** main.ts: install how a request ends the process. Returns the function that removes it. */
export function handleExitRequests(exit: ExitHandler): () => void {
  handler = exit;
  return () => {
    if (handler === exit) handler = undefined;
  };
}

export function requestExit(code: ExitCodeValue): void {
  handler?.(code);
}
