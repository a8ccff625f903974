import { mkdir, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "../errors.js";
import { usingPath } from "../util/fs-errors.js";
import { tryLock } from "../util/lock.js";

/** The files of one run: `server/` checkout, `logs/`, rewritten `scripts/`. */
export interface RunDir {
  root: string;
  checkout: string;
  logs: string;
  scripts: string;
  /** `<checkout>/build`: where build.py wrote its scripts and where the install tree is assembled. */
  buildDir: string;
  release(): Promise<void>;
}

export function runDirLayout(root: string): Omit<RunDir, "release"> {
  const checkout = path.join(root, "server");
  return { root, checkout, logs: path.join(root, "logs"), scripts: path.join(root, "scripts"), buildDir: path.join(checkout, "build") };
}

/**
 * Prepares the run directory and locks it, so two runs never share one (which would mix their
 * checkouts and logs). Logs of an earlier run in the same directory are replaced.
 */
export async function openRunDir(root: string): Promise<RunDir> {
  return usingPath({ what: "work dir", path: root, option: "--work-dir DIR (or config workRoot)" }, () => prepareRunDir(root));
}

async function prepareRunDir(root: string): Promise<RunDir> {
  await mkdir(root, { recursive: true });
  const release = await tryLock(path.join(root, ".run"));
  if (!release) {
    throw new UsageError(`work dir ${root} is in use by another triton-build run`, "pass a different --work-dir, or leave it out to get a new one per run");
  }
  const layout = runDirLayout(root);
  for (const entry of await readdir(root)) {
    if (entry === "logs" || entry === "scripts") await rm(path.join(root, entry), { recursive: true, force: true });
  }
  await mkdir(layout.logs, { recursive: true });
  await mkdir(layout.scripts, { recursive: true });
  return { ...layout, release };
}

/**
 * Default run dirs pile up under the work root: keep the newest `keep` (their logs), remove older
 * ones unless a run still holds them.
 */
export async function pruneOldRuns(workRoot: string, keep = 20): Promise<number> {
  const entries = await readdir(workRoot, { withFileTypes: true }).catch(() => []);
  const runs = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !/^\d{8}-\d{6}-[a-z0-9-]+-[0-9a-f]{6}$/.test(entry.name)) continue;
    const dir = path.join(workRoot, entry.name);
    runs.push({ dir, mtime: (await stat(dir).catch(() => undefined))?.mtimeMs ?? 0 });
  }
  runs.sort((a, b) => b.mtime - a.mtime);
  let removed = 0;
  for (const run of runs.slice(keep)) {
    const release = await tryLock(path.join(run.dir, ".run"));
    if (!release) continue;
    await release();
    await rm(run.dir, { recursive: true, force: true });
    removed++;
  }
  return removed;
}
