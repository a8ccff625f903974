import { readdir, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "../errors.js";
import { makeDirs, usingPath } from "../util/fs-errors.js";
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
 * The file that says triton-build made a directory (or took it over empty). The tool removes or
 * replaces things only in a directory that has it: a work dir the user named is theirs otherwise.
 */
export const WORK_DIR_MARKER = ".triton-build-work-dir";

const WORK_DIR_ROLE = { what: "work dir", option: "--work-dir DIR (or config workRoot)" };

/**
 * Makes `root` a work dir of this tool, or refuses: a directory that does not exist or is empty
 * is made and marked; one with the marker is this tool's from an earlier run; any other (a
 * project directory given as `--work-dir .`) is the user's, and is refused with nothing in it
 * touched (exit 2).
 */
export async function claimWorkDir(root: string): Promise<void> {
  await usingPath({ ...WORK_DIR_ROLE, path: root }, async () => {
    await makeDirs(root);
    const entries = await readdir(root);
    if (entries.includes(WORK_DIR_MARKER)) return;
    if (entries.length > 0) {
      throw new UsageError(
        `work dir ${root} is not empty and triton-build did not make it (it has no ${WORK_DIR_MARKER} file); nothing in it was touched`,
        "pass a new or empty directory with --work-dir (triton-build puts server/, logs/ and scripts/ there and replaces them on each run), or leave --work-dir out to get a new directory per run",
      );
    }
    await writeFile(path.join(root, WORK_DIR_MARKER), "A work directory of triton-build: it replaces server/, logs/ and scripts/ here on each run.\n");
  });
}

/**
 * Prepares the run directory and locks it, so two runs never share one (which would mix their
 * checkouts and logs). Logs of an earlier run in the same directory are replaced.
 */
export async function openRunDir(root: string): Promise<RunDir> {
  await claimWorkDir(root);
  return usingPath({ ...WORK_DIR_ROLE, path: root }, () => prepareRunDir(root));
}

async function prepareRunDir(root: string): Promise<RunDir> {
  const release = await tryLock(path.join(root, ".run"));
  if (!release) {
    throw new UsageError(`work dir ${root} is in use by another triton-build run`, "pass a different --work-dir, or leave it out to get a new one per run");
  }
  const layout = runDirLayout(root);
  for (const entry of await readdir(root)) {
    if (entry === "logs" || entry === "scripts") await rm(path.join(root, entry), { recursive: true, force: true });
  }
  await makeDirs(layout.logs);
  await makeDirs(layout.scripts);
  return { ...layout, release };
}

/**
 * Default run dirs pile up under the work root: keep the newest `keep` (their logs), remove older
 * ones unless a run still holds them. Only directories with this tool's marker are removed.
 */
export async function pruneOldRuns(workRoot: string, keep = 20): Promise<number> {
  const entries = await readdir(workRoot, { withFileTypes: true }).catch(() => []);
  const runs = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !/^\d{8}-\d{6}-[a-z0-9-]+-[0-9a-f]{6}$/.test(entry.name)) continue;
    const dir = path.join(workRoot, entry.name);
    if (!(await stat(path.join(dir, WORK_DIR_MARKER)).catch(() => undefined))) continue;
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
