import { Command, CommanderError } from "commander";
import { ExitCode, UsageError } from "../errors.js";
import { buildCommand } from "./commands/build.js";
import { cacheCommand } from "./commands/cache.js";
import { configCommand } from "./commands/config.js";
import { doctorCommand } from "./commands/doctor.js";
import { planCommand } from "./commands/plan.js";
import { presetsCommand } from "./commands/presets.js";
import type { Output } from "./output.js";

export const VERSION = "0.1.0";

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
      `
Examples:
  triton-build --preset trtllm-onnx                 build (same as: triton-build build --preset trtllm-onnx)
  triton-build plan --preset llm-plus-vision        what would be built, from which commit
  triton-build presets list                         the built-in presets

Exit codes: 0 success, 1 build failed, 2 usage or preset error, 3 environment problem, 130 interrupted.`,
    );

  program.addCommand(buildCommand(output), { isDefault: true });
  program.addCommand(planCommand(output));
  program.addCommand(presetsCommand(output));
  program.addCommand(cacheCommand(output));
  program.addCommand(doctorCommand(output));
  program.addCommand(configCommand(output));
  for (const command of program.commands) command.exitOverride().configureOutput({ writeOut: (s) => output.out(s), writeErr: (s) => output.err(s) });
  return program;
}

/** Commander's own parse errors become usage errors (exit 2); help and version exit 0. */
export function translateCommanderError(error: unknown): unknown {
  if (!(error instanceof CommanderError)) return error;
  if (error.exitCode === 0 || error.code === "commander.helpDisplayed" || error.code === "commander.version") {
    return { exitCode: ExitCode.ok };
  }
  const already = new UsageError(error.message.replace(/^error: /, ""));
  (already as { printed?: boolean }).printed = true;
  return already;
}
