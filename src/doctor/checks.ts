import { statfs } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { checkPython } from "../buildpy/run.js";
import { daemonInfo } from "../docker/system.js";
import { errorMessage, isTritonBuildError } from "../errors.js";
import { usesTensorrtllm, type Preset } from "../presets/model.js";
import { gitLfsVersion, gitVersion } from "../source/git.js";

/** Preflight checks: each says ok, warn or fail, what it found and how to fix it. */

export type CheckStatus = "ok" | "warn" | "fail";

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

export interface DoctorInput {
  python: string;
  workDir: string;
  cacheDir: string;
  /** Tailors the disk and git-lfs checks; absent: a general check. */
  preset?: Preset;
}

const GB = 1e9;
/** TensorRT-LLM builds need about 60+ GB (reference notes); warn with room to spare. */
export const TRTLLM_DISK_GB = 80;
export const DEFAULT_DISK_GB = 30;

export async function runDoctor(input: DoctorInput): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  let dockerRoot: string | undefined;
  let daemonHere = false;
  try {
    const info = await daemonInfo();
    dockerRoot = info.rootDir;
    daemonHere = isLocalDaemon(info.hostName);
    results.push({ name: "docker", status: "ok", detail: `daemon ${info.serverVersion} (storage driver ${info.storageDriver}, data root ${info.rootDir})` });
  } catch (error) {
    results.push({ name: "docker", status: "fail", detail: errorMessage(error), fix: hintOf(error) ?? "install Docker and start the daemon" });
  }

  const neededGb = usesTensorrtllm(input.preset) ? TRTLLM_DISK_GB : DEFAULT_DISK_GB;
  const why = usesTensorrtllm(input.preset) ? "TensorRT-LLM builds need about 60 GB or more" : "a Triton build needs tens of GB";
  if (dockerRoot) results.push(await diskCheck("disk (docker data root)", dockerRoot, neededGb, why, daemonHere));
  results.push(await diskCheck("disk (work dir)", input.workDir, neededGb / 4, "checkouts, logs and the install tree", true));
  results.push(await diskCheck("disk (cache dir)", input.cacheDir, 10, "component cache and git mirrors", true));

  try {
    const python = await checkPython(input.python);
    results.push({ name: "python", status: "ok", detail: `${python.executable} ${python.version} with requests` });
  } catch (error) {
    results.push({ name: "python", status: "fail", detail: errorMessage(error), fix: hintOf(error) ?? "install Python 3 with requests" });
  }

  const git = await gitVersion();
  results.push(
    git
      ? { name: "git", status: "ok", detail: `git ${git}` }
      : { name: "git", status: "fail", detail: "git not found", fix: "install git (apt-get install git)" },
  );

  const lfs = await gitLfsVersion();
  if (lfs) results.push({ name: "git-lfs", status: "ok", detail: `git-lfs ${lfs}` });
  else {
    results.push({
      name: "git-lfs",
      status: usesTensorrtllm(input.preset) ? "fail" : "warn",
      detail: "git-lfs not found; TensorRT-LLM's sources keep their prebuilt libraries in Git LFS",
      fix: "apt-get install git-lfs && git lfs install",
    });
  }
  return results;
}

async function diskCheck(name: string, dir: string, neededGb: number, why: string, local: boolean): Promise<CheckResult> {
  if (!local) return { name, status: "warn", detail: `${dir} is on a remote Docker host; free space not checked`, fix: `check it there: df -h ${dir}` };
  try {
    // The directory may not exist yet: measure the file system it will be created on.
    const stats = await statfs(nearestExisting(dir));
    const freeGb = (stats.bavail * stats.bsize) / GB;
    const detail = `${freeGb.toFixed(1)} GB free at ${dir}`;
    if (freeGb < neededGb) return { name, status: "warn", detail: `${detail}; under ${neededGb} GB (${why})`, fix: `free space there, or point it elsewhere` };
    return { name, status: "ok", detail };
  } catch (error) {
    return { name, status: "warn", detail: `cannot check ${dir}: ${errorMessage(error)}` };
  }
}

function nearestExisting(dir: string): string {
  let current = path.resolve(dir);
  while (!existsSync(current) && path.dirname(current) !== current) current = path.dirname(current);
  return current;
}

/**
 * Whether the daemon's data root is on this machine's file systems: the daemon reports this
 * host's name. A `docker context` or DOCKER_HOST pointing elsewhere, or Docker Desktop's VM,
 * reports another one, and its disk cannot be measured from here.
 */
function isLocalDaemon(daemonHostName: string | undefined): boolean {
  if (daemonHostName) return daemonHostName === os.hostname();
  const host = process.env.DOCKER_HOST;
  return !host || host.startsWith("unix://");
}

function hintOf(error: unknown): string | undefined {
  return isTritonBuildError(error) ? error.hint : undefined;
}
