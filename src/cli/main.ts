import { ExitCode, isTritonBuildError } from "../errors.js";
import { formatError, processOutput } from "./output.js";
import { createProgram, translateCommanderError } from "./program.js";

/** The entry point: the only place that sets the process's exit code. */
async function main(argv: string[]): Promise<number> {
  const output = processOutput;
  const verbose = argv.includes("--verbose") || argv.includes("-v") || /^(1|true|yes|on)$/i.test(process.env["TRITON_BUILD_VERBOSE"] ?? "");
  try {
    await createProgram(output).parseAsync(argv);
    return ExitCode.ok;
  } catch (raw) {
    const error = translateCommanderError(raw);
    if (error && typeof error === "object" && "exitCode" in error && !isTritonBuildError(error)) return (error as { exitCode: number }).exitCode;
    // commander already printed its own parse error line
    if (!(error as { printed?: boolean })?.printed) output.err(formatError(error, verbose));
    return isTritonBuildError(error) ? error.exitCode : ExitCode.buildFailed;
  }
}

process.exitCode = await main(process.argv);
