import { mkdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { EnvironmentError } from "../errors.js";
import { makeDirs } from "./fs-errors.js";
import { isProcessAlive, processHost } from "./process.js";

/**
 * Inter-process locks as directories (`mkdir` is atomic): `<target>.lock/owner.json` names the
 * holder, whose heartbeat keeps the directory's mtime fresh. A lock whose holder died (even by
 * kill -9) is broken: at once when the holder was a process on this host, else when its
 * heartbeat is older than STALE_MS. No signal handlers are installed (they would fight the
 * CLI's own Ctrl-C handling).
 *
 * Correctness never rests on these locks alone: cache entries and mirrors are renamed into place
 * whole, so a broken lock costs duplicated work, not a corrupt result.
 */

const STALE_MS = 30_000;
const HEARTBEAT_MS = 5_000;

interface Owner {
  pid: number;
  host: string;
  since: string;
}

export type Release = () => Promise<void>;

export interface LockOptions {
  /** How long to wait for another process's lock before giving up. */
  waitMs?: number;
  signal?: AbortSignal;
}

/** Takes the lock only if nobody holds it; undefined when another live process does. */
export async function tryLock(target: string): Promise<Release | undefined> {
  const dir = `${target}.lock`;
  await makeDirs(path.dirname(dir));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await mkdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (attempt === 0 && (await isStale(dir))) {
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      return undefined;
    }
    const owner: Owner = { pid: process.pid, host: processHost(), since: new Date().toISOString() };
    await writeFile(path.join(dir, "owner.json"), JSON.stringify(owner));
    const heartbeat = setInterval(() => {
      const now = new Date();
      utimes(dir, now, now).catch(() => undefined);
    }, HEARTBEAT_MS);
    heartbeat.unref();
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      await rm(dir, { recursive: true, force: true });
    };
  }
  return undefined;
}

/** Runs `fn` while holding the lock on `target`, waiting for another holder to finish. */
export async function withLock<T>(target: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const waitMs = options.waitMs ?? 30 * 60_000;
  const started = Date.now();
  let release = await tryLock(target);
  while (!release) {
    options.signal?.throwIfAborted();
    if (Date.now() - started > waitMs) {
      throw new EnvironmentError(
        `timed out after ${Math.round(waitMs / 1000)} s waiting for the lock on ${target}`,
        `another triton-build run holds it (${target}.lock/owner.json names it); wait for that run, or remove ${target}.lock if it is gone`,
      );
    }
    await sleep(200, undefined, options.signal ? { signal: options.signal } : {});
    release = await tryLock(target);
  }
  try {
    return await fn();
  } finally {
    await release();
  }
}

async function isStale(dir: string): Promise<boolean> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) return false;
  const age = Date.now() - info.mtimeMs;
  const owner = await readOwner(dir);
  if (!owner) return age > STALE_MS / 10; // mkdir done but owner.json not yet written: give it a moment
  if (owner.host === processHost() && !isProcessAlive(owner.pid)) return true;
  return age > STALE_MS;
}

async function readOwner(dir: string): Promise<Owner | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, "owner.json"), "utf8")) as Owner;
  } catch {
    return undefined;
  }
}
