// Runs the built CLI (dist/) as users do, in an environment of the test's own: config, cache
// and work dirs in the test's temp dir, no TRITON_BUILD_* leaking in from the caller.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { PROJECT_ROOT } from "./fixture-repo.js";
import { expectValidEvents, expectValidReport, machineOutputOf } from "./schema.js";

export const CLI = path.join(PROJECT_ROOT, "bin", "triton-build.js");

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export function cliEnv(tempDir: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith("TRITON_BUILD_") && key !== "CI" && key !== "FORCE_COLOR") env[key] = value;
  }
  return {
    ...env,
    TRITON_BUILD_CONFIG_DIR: path.join(tempDir, "config"),
    TRITON_BUILD_CACHE_DIR: path.join(tempDir, "cache"),
    TRITON_BUILD_WORK_ROOT: path.join(tempDir, "runs"),
    ...extra,
  };
}

export interface CliOptions {
  tempDir: string;
  env?: Record<string, string>;
  cwd?: string;
  /** A command that runs node for the test, e.g. setpriv with fewer capabilities. */
  wrapper?: string[];
}

function spawnCli(args: string[], options: CliOptions): ResultPromise {
  const [command = "node", ...prefix] = [...(options.wrapper ?? []), "node"];
  return execa(command, [...prefix, CLI, ...args], {
    cwd: options.cwd ?? options.tempDir,
    env: cliEnv(options.tempDir, options.env),
    extendEnv: false,
    reject: false,
    stdin: "ignore",
  });
}

/** Runs started with startCli that have not ended, and the failures found in finished ones. */
const running = new Map<ResultPromise, Promise<void>>();
const failedChecks: string[] = [];

/**
 * Starts the CLI without waiting (for signal tests). When the run ends, its `--json` lines and
 * its `--report` file are checked against the shipped schema as runCli checks them (a run killed
 * by a signal may end in a cut line, which is left out); a failure fails the test through
 * test/helpers/machine-output-hook.ts.
 */
export function startCli(args: string[], options: CliOptions): ResultPromise {
  const child = spawnCli(args, options);
  const check = child.then(
    (result) => checkEnded(args, result, options),
    (error: unknown) => checkEnded(args, error as { stdout?: unknown; isTerminated?: boolean }, options),
  );
  running.set(
    child,
    check.finally(() => running.delete(child)),
  );
  return child;
}

async function checkEnded(args: readonly string[], result: { stdout?: unknown; isTerminated?: boolean }, options: CliOptions): Promise<void> {
  let stdout = String(result.stdout ?? "");
  if (result.isTerminated && !stdout.endsWith("\n")) stdout = stdout.slice(0, stdout.lastIndexOf("\n") + 1);
  try {
    await expectValidMachineOutput(args, stdout, options.cwd ?? options.tempDir);
  } catch (error) {
    failedChecks.push(`triton-build ${args.join(" ")}: ${(error as Error).message}`);
  }
}

/**
 * The failures found in the machine output of the runs started so far, once each has ended and
 * been checked. A run still going after `waitMs` outlived its test: it is killed and reported.
 */
export async function machineOutputFailures(waitMs = 5_000): Promise<string[]> {
  await settledWithin(waitMs);
  const leftovers = [...running.keys()].filter((child) => child.exitCode === null && child.signalCode === null);
  for (const child of leftovers) {
    failedChecks.push(`a run started with startCli was still going after its test (pid ${child.pid}); killed`);
    child.kill("SIGKILL");
  }
  if (leftovers.length) await settledWithin(waitMs);
  return failedChecks.splice(0);
}

async function settledWithin(ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(running.values()), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * Runs the CLI to its end. A build's `--json` lines and its `--report` file are checked against
 * the shipped JSON Schema (schema/): every end-to-end run is a test of that contract.
 */
export async function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  const started = performance.now();
  const result = await spawnCli(args, options);
  const outcome = {
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    durationMs: performance.now() - started,
  };
  await expectValidMachineOutput(args, outcome.stdout, options.cwd ?? options.tempDir);
  return outcome;
}

/** The checks runCli makes, for output got another way. */
export async function expectValidMachineOutput(args: readonly string[], stdout: string, cwd: string): Promise<void> {
  const machine = machineOutputOf(args);
  if (machine.events) expectValidEvents(stdout);
  if (machine.report) {
    const file = path.resolve(cwd, machine.report);
    const text = await readFile(file, "utf8").catch(() => undefined);
    if (text !== undefined) expectValidReport(JSON.parse(text), file);
  }
}

/** A temp dir per test, removed afterwards (use with beforeEach/afterEach). */
export async function makeTempDir(prefix = "tb-test-"): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function removeTempDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}

/** An expected failure: the message is there, and no stack trace reaches the user. */
export function expectCleanFailure(result: CliResult, exitCode: number, message: string | RegExp): void {
  const problems: string[] = [];
  if (result.exitCode !== exitCode) problems.push(`exit code ${result.exitCode}, expected ${exitCode}`);
  const matches = typeof message === "string" ? result.stderr.includes(message) : message.test(result.stderr);
  if (!matches) problems.push(`stderr does not contain ${String(message)}`);
  if (/\n\s+at .+:\d+:\d+\)?/.test(result.stderr)) problems.push("stderr has a stack trace");
  if ((result.stderr.match(/^error: /gm) ?? []).length !== 1) problems.push("expected exactly one 'error:' line");
  if (problems.length) throw new Error(`${problems.join("; ")}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`);
}
