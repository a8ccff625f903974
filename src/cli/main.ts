import { ExitCode } from "../errors.js";
import { handleExitRequests } from "./exit-request.js";
import { processOutput } from "./output.js";
import { createProgram, failureOutcome } from "./program.js";

/** The entry point: the only place that sets the process's exit code. */
async function main(argv: string[]): Promise<number> {
  const output = processOutput;
  const verbose = argv.includes("--verbose") || argv.includes("-v") || /^(1|true|yes|on)$/i.test(process.env.TRITON_BUILD_VERBOSE ?? "");
  try {
    await createProgram(output).parseAsync(argv);
    return ExitCode.ok;
  } catch (raw) {
    const { exitCode, message } = failureOutcome(raw, verbose);
    if (message) output.err(message);
    return exitCode;
  }
}

// `triton-build plan --help | head -1`: the reader went away. What is left to print has no
// reader, which is not a failure; the command still ends as it would have.
let stdoutGone = false;
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE" || stdoutGone) {
    stdoutGone = true;
    return;
  }
  throw error;
});

// A signal handler that must stop the run at once asks for it (exit-request.ts); only here is
// the process ended.
handleExitRequests((code) => process.exit(code));

process.exitCode = await main(process.argv);
