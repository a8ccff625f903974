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

/** A component's failure as the user sees it: its log's last lines and where the whole log is. */
export interface ComponentFailureLog {
  component: string;
  logPath?: string;
  logTail: string[];
}

/** The build itself failed (a component, an image build). */
export class BuildError extends TritonBuildError {
  readonly component: string | undefined;
  readonly logPath: string | undefined;
  readonly logTail: string[];
  /** Components that failed besides `component` (builders run in parallel), each with its log. */
  readonly others: ComponentFailureLog[];
  constructor(
    message: string,
    options: { component?: string; logPath?: string; logTail?: string[]; others?: ComponentFailureLog[]; hint?: string; cause?: unknown } = {},
  ) {
    super(message, { exitCode: ExitCode.buildFailed, hint: options.hint, cause: options.cause });
    this.component = options.component;
    this.logPath = options.logPath;
    this.logTail = options.logTail ?? [];
    this.others = options.others ?? [];
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

export function isTritonBuildError(error: unknown): error is TritonBuildError {
  return error instanceof TritonBuildError;
}
