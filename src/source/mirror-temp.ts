import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { isProcessAlive, processHostTag } from "../util/process.js";

/**
 * A new mirror is fetched into `<mirror>.tmp-<host>-<pid>-<time>` and renamed into place when
 * complete. A run killed with -9 leaves that directory behind; the next run that mirrors into the
 * same cache dir removes those of processes that are gone (judged only on the host that made
 * them; elsewhere after a day).
 */
export function mirrorTempDir(mirrorDir: string): string {
  return `${mirrorDir}.tmp-${processHostTag()}-${process.pid}-${Date.now()}`;
}

const DAY_MS = 24 * 3600_000;

/** Removes the temporary mirror directories of dead writers beside `mirrorDir`; returns how many. */
export async function removeStaleMirrorTemps(mirrorDir: string): Promise<number> {
  const parent = path.dirname(mirrorDir);
  const prefix = `${path.basename(mirrorDir)}.tmp-`;
  let removed = 0;
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const [, host, pid] = /^([0-9a-f]{8})-(\d+)-\d+$/.exec(name.slice(prefix.length)) ?? [];
    const age = Date.now() - ((await stat(path.join(parent, name)).catch(() => undefined))?.mtimeMs ?? 0);
    const writerGone = host === processHostTag() ? !isProcessAlive(Number(pid)) : age > DAY_MS;
    if (!writerGone) continue;
    await rm(path.join(parent, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
