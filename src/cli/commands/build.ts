import { Command } from "commander";
import { BUILD_PHASES, COMPOSE_PHASE_TITLES } from "../../run/events.js";
import { runBuild } from "../../strategies/buildpy/execute.js";
import { COMPOSE_PHASES, runCompose } from "../../strategies/compose/execute.js";
import { addBuildOptions } from "../common-options.js";
import type { Output } from "../output.js";
import { runSession } from "../session.js";
import { strayOperandError } from "../stray-operand.js";
import { resolveBuildSettings, settingsReader } from "../settings.js";

export function buildCommand(output: Output): Command {
  return (
    addBuildOptions(new Command("build"))
      .description("build a Triton server image from a preset (the default command)")
      .addHelpText(
        "after",
        `
Examples:
  triton-build --preset trtllm-onnx
  triton-build build --preset llm-plus-vision --tag registry.example.com/triton:24.05-vision --report build.json
  triton-build --preset ./my-preset.yaml --no-pull --json > events.ndjson
  triton-build --preset trtllm-onnx --strategy compose   (minutes: copy backends between published images)
  triton-build --preset trtllm-onnx --engine default --engine gpu-box-2 --trace build.trace.json
  triton-build --preset trtllm-onnx --only onnxruntime --remote-cache-mode readwrite   (one CI job per component...)
  triton-build --preset trtllm-onnx --cached-only                                     (...then one job builds the image)

Logs: <work-dir>/logs/<component>.log. Exit codes: 0 ok, 1 build failed, 2 usage, 3 environment, 130 interrupted.`,
      )
      // Operands are checked in the action, which can tell a mistyped command (see stray-operand.ts).
      .allowExcessArguments()
      .action(async (_opts, cmd: Command) => {
        const stray = strayOperandError(cmd);
        if (stray) throw stray;
        const settings = await resolveBuildSettings(await settingsReader(cmd));
        const compose = settings.strategy === "compose";
        const outcome = await runSession<{ image?: { tag: string; id: string }; built?: string[]; cached?: string[]; workDir: string }>(
          output,
          {
            json: settings.json,
            verbose: settings.verbose,
            phases: compose ? COMPOSE_PHASES : BUILD_PHASES,
            ...(compose ? { phaseTitles: COMPOSE_PHASE_TITLES } : {}),
            stdoutIsTTY: Boolean(process.stdout.isTTY),
            ...(settings.reportFile ? { reportFile: settings.reportFile } : {}),
            ...(settings.traceFile ? { traceFile: settings.traceFile } : {}),
          },
          (emit, signal) => (compose ? runCompose({ settings, emit, signal }) : runBuild({ settings, emit, signal })),
        );
        if (!settings.json) {
          if (outcome.image) output.out(`\n${outcome.image.tag}  ${outcome.image.id}`);
          else output.out(`\ncompiled and cached: ${outcome.built?.join(", ") || "nothing"}; already in the cache: ${outcome.cached?.join(", ") || "nothing"}`);
          output.out(`logs: ${outcome.workDir}/logs`);
        }
      })
  );
}
