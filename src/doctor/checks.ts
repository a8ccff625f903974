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
/**
 * Free space each disk check asks for: one number per check, said in its message. TensorRT-LLM
 * builds take 60 GB or more in Docker's data root (reference notes): 80 leaves room to spare.
 */
export const TRTLLM_DISK_GB = 80;
export const DEFAULT_DISK_GB = 30;
export const WORK_DIR_DISK_GB = 20;
export const CACHE_DIR_DISK_GB = 10;

/** Every check's name, in the order they run: the first column of doctor's table. */
export const CHECK_NAMES = ["docker", "disk (docker data root)", "disk (work dir)", "disk (cache dir)", "python", "git", "git-lfs"] as const;

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
    results.push({
      name: "docker",
      status: "fail",
      detail: errorMessage(error),
      fix: hintOf(error) ?? "start the daemon (sudo systemctl start docker), or point DOCKER_HOST or `docker context use` at one",
    });
  }

  const trtllm = usesTensorrtllm(input.preset);
  if (dockerRoot) {
    results.push(
      await diskCheck("disk (docker data root)", dockerRoot, daemonHere, {
        neededGb: trtllm ? TRTLLM_DISK_GB : DEFAULT_DISK_GB,
        forWhat: trtllm ? "a TensorRT-LLM build" : "a Triton build",
        fix: `docker image prune, docker builder prune, or move Docker's data-root (/etc/docker/daemon.json) to a larger disk`,
      }),
    );
  }
  results.push(
    await diskCheck("disk (work dir)", input.workDir, true, {
      neededGb: WORK_DIR_DISK_GB,
      forWhat: "a run's checkout, logs and install tree",
      fix: "pass --work-dir DIR on a larger disk, or set it for good: triton-build config set workRoot DIR",
    }),
  );
  results.push(
    await diskCheck("disk (cache dir)", input.cacheDir, true, {
      neededGb: CACHE_DIR_DISK_GB,
      forWhat: "the component cache and git mirrors",
      fix: "triton-build cache prune --max-size 50GB, or --cache-dir DIR (config set cacheDir DIR) on a larger disk",
    }),
  );

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
      : { name: "git", status: "fail", detail: "git not found", fix: "apt-get install git (or your system's package of git)" },
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

/** One threshold, one message: how much is free, and (when too little) what the need is and for what. */
async function diskCheck(name: string, dir: string, local: boolean, need: { neededGb: number; forWhat: string; fix: string }): Promise<CheckResult> {
  if (!local) return { name, status: "warn", detail: `${dir} is on a remote Docker host; free space not checked`, fix: `check it there: df -h ${dir}` };
  try {
    // The directory may not exist yet: measure the file system it will be created on.
    const stats = await statfs(nearestExisting(dir));
    const freeGb = (stats.bavail * stats.bsize) / GB;
    const free = `${freeGb.toFixed(1)} GB free at ${dir}`;
    if (freeGb < need.neededGb) return { name, status: "warn", detail: `${free}, under the ${need.neededGb} GB ${need.forWhat} needs`, fix: need.fix };
    return { name, status: "ok", detail: free };
  } catch (error) {
    return { name, status: "warn", detail: `cannot check ${dir}: ${errorMessage(error)}`, fix: `check it by hand: df -h ${dir}` };
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
