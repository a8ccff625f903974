import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ExitCode } from "../errors.js";
import { usingPath } from "../util/fs-errors.js";
import { requestExit } from "./exit-request.js";

/**
 * A temporary directory for a command that runs no session (plan, cache explain): removed when
 * the command ends, and also when it is interrupted with Ctrl-C (then the entry point exits 130 at
 * once: the command itself does not stop on a signal).
 */
export async function withScratchDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await usingPath({ what: "temporary directory", path: os.tmpdir(), option: "TMPDIR=DIR" }, () => mkdtemp(path.join(os.tmpdir(), prefix)));
  const onSignal = () => {
    rmSync(dir, { recursive: true, force: true });
    requestExit(ExitCode.interrupted);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    return await fn(dir);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await rm(dir, { recursive: true, force: true });
  }
}
