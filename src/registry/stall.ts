import { RegistryError } from "./errors.js";

/**
 * A transfer's stall limit: every sign of progress (bytes sent or received, an answer) resets a
 * timer; when it runs out, the transfer's signal aborts with a RegistryError of kind "stalled".
 * Only a transfer that stops moving is abandoned; a long one that moves is not.
 */
export class StallWatch {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  readonly signal: AbortSignal;

  constructor(
    private readonly limitMs: number,
    private readonly what: string,
    parent?: AbortSignal,
  ) {
    this.signal = parent ? AbortSignal.any([parent, this.controller.signal]) : this.controller.signal;
    this.progress();
  }

  progress(): void {
    if (this.controller.signal.aborted) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const seconds = Math.round(this.limitMs / 100) / 10;
      this.controller.abort(new RegistryError(`${this.what}: no progress for ${seconds} s`, "stalled"));
    }, this.limitMs);
    // A pending stall timer alone must not keep the process alive.
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
