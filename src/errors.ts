/**
 * The one place that defines how failures reach the user. Only the CLI entry point turns an
 * error into an exit code; everything else throws one of these.
 */

export const ExitCode = {
  ok: 0,
  buildFailed: 1,
  usage: 2,
  environment: 3,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class TritonBuildError extends Error {
  readonly exitCode: ExitCodeValue;
  /** What the user can do next; printed under the message. */
  readonly hint: string | undefined;

  constructor(message: string, options: { exitCode: ExitCodeValue; hint?: string; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode;
    this.hint = options.hint;
  }
}

/** Bad command line or option value. */
export class UsageError extends TritonBuildError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.usage, hint });
  }
}

/** A preset file or release data that cannot be read or does not validate. */
export class PresetError extends TritonBuildError {
  readonly file: string | undefined;
  constructor(message: string, options: { file?: string; hint?: string; cause?: unknown } = {}) {
    super(options.file ? `${options.file}: ${message}` : message, {
      exitCode: ExitCode.usage,
      hint: options.hint,
      cause: options.cause,
    });
    this.file = options.file;
  }
}

/** The source repository, a ref, or build.py rejected the request (user-fixable input). */
export class SourceError extends TritonBuildError {
  constructor(message: string, hint?: string, cause?: unknown) {
    super(message, { exitCode: ExitCode.usage, hint, cause });
  }
}

/** Something on this machine is missing or broken: docker, python, git, disk. */
export class EnvironmentError extends TritonBuildError {
  constructor(message: string, hint?: string, cause?: unknown) {
    super(message, { exitCode: ExitCode.environment, hint, cause });
  }
}

/** The build itself failed (a component, an image build). */
export class BuildError extends TritonBuildError {
  readonly component: string | undefined;
  readonly logPath: string | undefined;
  readonly logTail: string[];
  constructor(message: string, options: { component?: string; logPath?: string; logTail?: string[]; hint?: string; cause?: unknown } = {}) {
    super(message, { exitCode: ExitCode.buildFailed, hint: options.hint, cause: options.cause });
    this.component = options.component;
    this.logPath = options.logPath;
    this.logTail = options.logTail ?? [];
  }
}

/** A cache entry failed verification. Never fatal to a build: callers evict and rebuild. */
export class CacheIntegrityError extends TritonBuildError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.buildFailed, hint });
  }
}

/** The user pressed Ctrl-C or the process got SIGTERM. */
export class InterruptedError extends TritonBuildError {
  constructor(message = "interrupted") {
    super(message, { exitCode: ExitCode.interrupted });
  }
}

/** What a step that was cancelled throws: the signal's reason (the user's Ctrl-C), else an interruption. */
export function cancellation(signal: AbortSignal | undefined, what: string): unknown {
  return signal?.reason ?? new InterruptedError(`${what} was cancelled`);
}

export function isTritonBuildError(error: unknown): error is TritonBuildError {
  return error instanceof TritonBuildError;
}

/** How many of a failed command's last output lines an error keeps (and prints). */
export const COMMAND_TAIL_LINES = 40;

/**
 * An external command that failed. Adapters throw one subclass per tool (docker, git, tar), with
 * the command, its arguments, its exit status and the last lines it printed; a caller that knows
 * what the failure means (a full work dir, a broken build step) maps it with `instanceof`. Left
 * unmapped it is still an expected failure: its exit code is its tool's, never "a bug".
 */
export class CommandError extends TritonBuildError {
  readonly command: string;
  readonly args: readonly string[];
  /** The command's own exit status; undefined when it was killed, timed out, or is not known (simple-git). */
  readonly status: number | undefined;
  /** Its last output lines (stderr, or stdout and stderr interleaved), empty lines removed. */
  readonly tail: string[];
  /** The directory the command wrote into, when its failure may be that directory's (tar -x). */
  readonly directory: string | undefined;

  constructor(
    command: string,
    args: readonly string[],
    result: { status: number | undefined; output: string | readonly string[]; directory?: string },
    options: { exitCode: ExitCodeValue; hint?: string; cause?: unknown },
  ) {
    const lines = (typeof result.output === "string" ? result.output.split(/\r?\n/) : [...result.output]).map((l) => l.trimEnd()).filter((l) => l.trim());
    const tail = lines.slice(-COMMAND_TAIL_LINES);
    const said = firstErrorLine(tail.join("\n")) || (result.status === undefined ? "no output" : `exit code ${result.status}`);
    super(`${command} ${args.slice(0, 2).join(" ")} failed: ${said}`, options);
    this.command = command;
    this.args = args;
    this.status = result.status;
    this.tail = tail;
    this.directory = result.directory;
  }
}

/**
 * A docker CLI command failed (a build step, a pull, a copy): the build failed (exit 1) unless
 * mapped. Made from the adapter's result: its exit code (-1: killed or timed out) and output tail.
 */
export class DockerCommandError extends CommandError {
  constructor(args: readonly string[], result: { exitCode: number; tail: readonly string[]; stdout?: string; stderr?: string }) {
    super(
      "docker",
      args,
      { status: result.exitCode < 0 ? undefined : result.exitCode, output: result.tail },
      { exitCode: ExitCode.buildFailed, hint: "docker's own message is above; `triton-build doctor` checks the set-up" },
    );
  }
}

/** A git command failed: a mirror, a clone or the network of this machine (exit 3) unless mapped. */
export class GitCommandError extends CommandError {
  constructor(args: readonly string[], result: { status: number | undefined; output: string | readonly string[]; directory?: string }, cause?: unknown) {
    super("git", args, result, { exitCode: ExitCode.environment, hint: "git's own message is above; check the repository, the network and the disk", cause });
  }
}

/** tar failed to write or read files: a problem of this machine's disk (exit 3) unless mapped. */
export class TarCommandError extends CommandError {
  constructor(args: readonly string[], result: { status: number | undefined; output: string | readonly string[]; directory?: string }) {
    super("tar", args, result, { exitCode: ExitCode.environment, hint: "tar's own message is above; check the disk and the permissions of that directory" });
  }
}

/** The message of anything thrown: an Error's message, else the value as text. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  const message = (error as { message?: unknown } | null | undefined)?.message;
  return typeof message === "string" ? message : String(error);
}

/**
 * The line of a tool's output (or of an error's message) that says what went wrong: the first
 * `fatal:` / `error:` line (git, build.py, docker's "Error response from daemon:"), else the
 * last non-empty line, where tools print their conclusion; of a CommandError, the line of its
 * command's output. "" for empty output.
 */
export function firstErrorLine(textOrError: unknown): string {
  const text =
    typeof textOrError === "string"
      ? textOrError
      : textOrError instanceof CommandError && textOrError.tail.length
        ? textOrError.tail.join("\n")
        : errorMessage(textOrError);
  const lines = text
    .split(/\r?\n|\r/)
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.find((line) => /^(fatal|error):|^Error response from daemon:/i.test(line)) ?? lines.at(-1) ?? "";
}
