import { mkdir } from "node:fs/promises";
import path from "node:path";
import lockfile from "proper-lockfile";

export interface LockOptions {
  /** How long to wait for another process's lock before giving up. */
  waitMs?: number;
  signal?: AbortSignal;
}

/**
 * Runs `fn` while holding an inter-process lock on `target` (a directory lock next to it).
 * A holder that died (even by kill -9) stops refreshing the lock, which goes stale after 10 s.
 */
export async function withLock<T>(target: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  await mkdir(path.dirname(target), { recursive: true });
  const waitMs = options.waitMs ?? 30 * 60_000;
  const started = Date.now();
  let release: (() => Promise<void>) | undefined;
  while (!release) {
    options.signal?.throwIfAborted();
    try {
      release = await lockfile.lock(target, { realpath: false, stale: 10_000, update: 2_000 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ELOCKED" || Date.now() - started > waitMs) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}

/** Takes the lock only if nobody holds it; undefined when another process does. */
export async function tryLock(target: string): Promise<(() => Promise<void>) | undefined> {
  await mkdir(path.dirname(target), { recursive: true });
  try {
    return await lockfile.lock(target, { realpath: false, stale: 10_000, update: 2_000 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOCKED") return undefined;
    throw error;
  }
}
