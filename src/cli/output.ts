import { BuildError, CommandError, isTritonBuildError } from "../errors.js";
import { stripVTControlCharacters } from "node:util";

/** Where CLI commands write. Tests can swap it; nothing outside `cli/` and `progress/` prints. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: Output = {
  out: (text) => void process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  err: (text) => void process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
};

/** How many of a failed command's last lines an error message shows (its log or --verbose has more). */
const COMMAND_LINES_SHOWN = 10;

/** `error: ...` and `hint: ...`; a stack trace only for a bug (an unexpected error) with --verbose. */
export function formatError(error: unknown, verbose: boolean): string {
  if (isTritonBuildError(error)) {
    const lines = [`error: ${error.message}`];
    if (error instanceof BuildError) {
      if (error.logTail.length)
        lines.push(`--- last ${error.logTail.length} lines of ${error.component ?? "the"} log ---`, ...error.logTail.map(stripVTControlCharacters), "---");
      if (error.logPath) lines.push(`full log: ${error.logPath}`);
    }
    const command = error instanceof CommandError ? error : error.cause instanceof CommandError ? error.cause : undefined;
    if (command?.tail.length && !(error instanceof BuildError && error.logTail.length)) {
      const shown = command.tail.slice(-COMMAND_LINES_SHOWN);
      // Indented: only the message's own line starts with "error:", for scripts that look for it.
      lines.push(
        `--- last ${shown.length} lines of ${command.command} ${command.args[0] ?? ""} ---`,
        ...shown.map((line) => `  ${stripVTControlCharacters(line)}`),
        "---",
      );
    }
    if (error.hint) lines.push(`hint: ${error.hint}`);
    if (verbose && error.cause) lines.push(`cause: ${String((error.cause as Error)?.stack ?? error.cause)}`);
    return lines.join("\n");
  }
  const err = error as Error;
  if (verbose) return `error: unexpected failure: ${err?.stack ?? String(error)}`;
  return `error: unexpected failure: ${err?.message ?? String(error)}\nhint: this is a bug in triton-build; run again with --verbose for details and report it`;
}

/** Pads columns of a small table for the terminal. */
export function table(rows: string[][], indent = "  "): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows
    .map(
      (row) =>
        indent +
        row
          .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
          .join("  ")
          .trimEnd(),
    )
    .join("\n");
}
