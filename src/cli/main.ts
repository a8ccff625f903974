import { ExitCode } from "../errors.js";
import { processOutput } from "./output.js";
import { createProgram, failureOutcome } from "./program.js";

/** The entry point: the only place that sets the process's exit code. */
async function main(argv: string[]): Promise<number> {
  const output = processOutput;
  const verbose = argv.includes("--verbose") || argv.includes("-v") || /^(1|true|yes|on)$/i.test(process.env["TRITON_BUILD_VERBOSE"] ?? "");
  try {
    await createProgram(output).parseAsync(argv);
    return ExitCode.ok;
  } catch (raw) {
    const { exitCode, message } = failureOutcome(raw, verbose);
    if (message) output.err(message);
    return exitCode;
  }
}

process.exitCode = await main(process.argv);
