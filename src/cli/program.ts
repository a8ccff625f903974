import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { ExitCode, isTritonBuildError, UsageError } from "../errors.js";
import { expectedFailure } from "../run/failure.js";
import { buildCommand } from "./commands/build.js";
import { cacheCommand } from "./commands/cache.js";
import { configCommand } from "./commands/config.js";
import { doctorCommand } from "./commands/doctor.js";
import { planCommand } from "./commands/plan.js";
import { presetsCommand } from "./commands/presets.js";
import { completionCommand } from "./commands/completion.js";
import { describeOptions, EXIT_CODES_HELP, examples } from "./help.js";
import { formatError, type Output } from "./output.js";

/** The package's own version (package.json is shipped beside dist/ and src/). */
export const VERSION: string = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** The whole command tree. `main.ts` runs it; nothing here exits the process. */
export function createProgram(output: Output): Command {
  const program = new Command("triton-build")
    .description("Build custom NVIDIA Triton Inference Server images from presets, with a per-component cache.")
    .version(VERSION)
    .showSuggestionAfterError()
    .configureOutput({ writeOut: (s) => output.out(s), writeErr: (s) => output.err(s) })
    .exitOverride()
    .addHelpText(
      "after",
      `${examples([
        ["build an image (the same as: triton-build build --preset trtllm-onnx)", "triton-build --preset trtllm-onnx"],
        ["what would be built, from which commit", "triton-build plan --preset llm-plus-vision"],
        ["the built-in presets", "triton-build presets list"],
        ["tab completion for bash (zsh and fish too)", "source <(triton-build completion bash)"],
      ])}\n\n${EXIT_CODES_HELP}`,
    );

  program.addCommand(buildCommand(output), { isDefault: true });
  program.addCommand(planCommand(output));
  program.addCommand(presetsCommand(output));
  program.addCommand(cacheCommand(output));
  program.addCommand(doctorCommand(output));
  program.addCommand(configCommand(output));
  program.addCommand(completionCommand(output, program));
  for (const command of program.commands) command.exitOverride().configureOutput({ writeOut: (s) => output.out(s), writeErr: (s) => output.err(s) });
  describeOptions(program);
  return program;
}

/** Commander printed help or the version and stopped: nothing failed. */
export class CommanderFinished {
  constructor(readonly exitCode: number) {}
}

/** Commander's own parse errors become usage errors (exit 2); help and version exit 0. */
export function translateCommanderError(error: unknown): unknown {
  if (!(error instanceof CommanderError)) return error;
  if (error.exitCode === 0 || error.code === "commander.helpDisplayed" || error.code === "commander.version") {
    return new CommanderFinished(ExitCode.ok);
  }
  const already = new UsageError(error.message.replace(/^error: /, ""));
  (already as { printed?: boolean }).printed = true;
  return already;
}

/**
 * What the entry point does with an error that ended a command: the exit code and the message
 * to print (none when commander already printed it, or only showed help).
 */
export function failureOutcome(raw: unknown, verbose: boolean): { exitCode: number; message?: string } {
  const translated = translateCommanderError(raw);
  if (translated instanceof CommanderFinished) return { exitCode: translated.exitCode };
  const error = expectedFailure(translated);
  const exitCode = isTritonBuildError(error) ? error.exitCode : ExitCode.buildFailed;
  if ((error as { printed?: boolean } | undefined)?.printed) return { exitCode };
  return { exitCode, message: formatError(error, verbose) };
}
