import type { BuildEvent } from "../run/events.js";

type Listener = (event: BuildEvent) => void;

/**
 * Keeps the events of a run so a renderer can wait for one that may already have happened
 * ("has the builder phase started?") and listen to the rest.
 */
export class EventHub {
  private readonly events: BuildEvent[] = [];
  private readonly listeners = new Set<Listener>();
  private readonly waiters = new Set<{ match: (e: BuildEvent) => boolean; resolve: (e: BuildEvent | undefined) => void }>();
  private closed = false;

  readonly emit = (event: BuildEvent): void => {
    if (this.closed) return;
    // Only the events waiters look for are kept; output lines would grow without bound.
    if (event.type !== "component-output" && event.type !== "phase-output") this.events.push(event);
    for (const listener of this.listeners) listener(event);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(event)) {
        this.waiters.delete(waiter);
        waiter.resolve(event);
      }
    }
  };

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A matching event that already happened, without waiting. */
  past(match: (e: BuildEvent) => boolean): BuildEvent | undefined {
    return this.events.find(match);
  }

  /** The first matching event, past or future; undefined if the run ends without one. */
  next<T extends BuildEvent>(match: (e: BuildEvent) => e is T): Promise<T | undefined>;
  next(match: (e: BuildEvent) => boolean): Promise<BuildEvent | undefined>;
  next(match: (e: BuildEvent) => boolean): Promise<BuildEvent | undefined> {
    const past = this.events.find(match);
    if (past) return Promise.resolve(past);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.add({ match, resolve }));
  }

  close(): void {
    this.closed = true;
    for (const waiter of this.waiters) waiter.resolve(undefined);
    this.waiters.clear();
    this.listeners.clear();
  }
}
