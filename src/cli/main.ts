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

// git never asks for a user name or password (a mistyped or private --github-organization over
// https answers 401): the live view owns the terminal, CI has no one to answer, and each
// unreadable repository is reported instead. Set here, once, for every git the run starts
// (simple-git refuses an env of its own that carries the user's EDITOR or GIT_SSH_COMMAND).
process.env.GIT_TERMINAL_PROMPT = "0";
process.env.GCM_INTERACTIVE = "never";
// ssh reads a passphrase or a host-key answer from the terminal itself: batch mode, unless the
// user gave their own ssh command (a CI deploy key), which git uses as it is.
if (!process.env.GIT_SSH_COMMAND && !process.env.GIT_SSH) process.env.GIT_SSH_COMMAND = "ssh -o BatchMode=yes";

// A signal handler that must stop the run at once asks for it (exit-request.ts); only here is
// the process ended.
handleExitRequests((code) => process.exit(code));

process.exitCode = await main(process.argv);
