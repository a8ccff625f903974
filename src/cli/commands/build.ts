import { Command } from "commander";
import { COMPOSE_PHASE_TITLES } from "../../run/events.js";
import { runBuild } from "../../strategies/buildpy/execute.js";
import { runCompose } from "../../strategies/compose/execute.js";
import { addBuildOptions } from "../common-options.js";
import type { Output } from "../output.js";
import { EXIT_CODES_HELP, examples } from "../help.js";
import { showPlan } from "./plan.js";
import { runSession } from "../session.js";
import { strayOperandError } from "../stray-operand.js";
import { resolveBuildSettings, settingsReader } from "../settings.js";

export function buildCommand(output: Output): Command {
  return (
    addBuildOptions(new Command("build"))
      .description("build a Triton server image from a preset (the default command)")
      .addHelpText(
        "after",
        `${examples([
          ["build a preset", "triton-build --preset trtllm-onnx"],
          [
            "name the image and write a JSON report",
            "triton-build build --preset llm-plus-vision --tag registry.example.com/triton:24.05-vision --report build.json",
          ],
          ["machine-readable events (schema/events.schema.json in the package)", "triton-build --preset ./my-preset.yaml --no-pull --json > events.ndjson"],
          ["minutes instead of hours: copy backends between published images", "triton-build --preset trtllm-onnx --strategy compose"],
          ["what would be built, without building", "triton-build --preset trtllm-onnx --dry-run"],
        ])}

Each component's log: <work-dir>/logs/<component>.log.
${EXIT_CODES_HELP}`,
      )
      // Operands are checked in the action, which can tell a mistyped command (see stray-operand.ts).
      .allowExcessArguments()
      .action(async (_opts, cmd: Command) => {
        const stray = strayOperandError(cmd);
        if (stray) throw stray;
        const reader = await settingsReader(cmd);
        if (reader.bool("dryRun")) {
          await showPlan(reader, output);
          return;
        }
        const settings = await resolveBuildSettings(reader);
        const compose = settings.strategy === "compose";
        await runSession<unknown>(
          output,
          {
            json: settings.json,
            verbose: settings.verbose,
            quiet: settings.quiet,
            ...(compose ? { phaseTitles: COMPOSE_PHASE_TITLES } : {}),
            stdoutIsTTY: Boolean(process.stdout.isTTY),
            ...(settings.reportFile ? { reportFile: settings.reportFile } : {}),
          },
          (emit, signal) => (compose ? runCompose({ settings, emit, signal }) : runBuild({ settings, emit, signal })),
        );
      })
  );
}
