import { mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "../errors.js";
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
