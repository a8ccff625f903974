import { Command } from "commander";
import { CHECK_NAMES, runDoctor, type CheckResult } from "../../doctor/checks.js";
import { EnvironmentError } from "../../errors.js";
import { loadPreset } from "../../presets/load.js";
import type { Output } from "../output.js";
import { examples } from "../help.js";
import { settingsReader } from "../settings.js";

export function doctorCommand(output: Output): Command {
  return new Command("doctor")
    .description("check this machine before a build: docker daemon, disk space, python3 with requests, git, git-lfs")
    .option("-p, --preset <name|path>", "check for this preset's needs (e.g. disk space and git-lfs for TensorRT-LLM)")
    .option("--python <exe>", "Python 3 interpreter build.py runs with")
    .option("--work-dir <dir>", "where runs keep their files")
    .option("--cache-dir <dir>", "component cache and git mirrors")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      examples([
        ["this machine, for any build", "triton-build doctor"],
        ["for a preset's needs (disk, git-lfs for TensorRT-LLM)", "triton-build doctor --preset trtllm-onnx"],
      ]),
    )
    .action(async (_opts, cmd: Command) => {
      const reader = await settingsReader(cmd);
      const presetArg = reader.string("preset");
      const results = await runDoctor({
        python: reader.string("python", { config: "python", fallback: "python3" }) ?? "python3",
        workDir: reader.string("workDir") ?? reader.workRoot(),
        cacheDir: reader.cacheDir(),
        ...(presetArg ? { preset: await loadPreset(presetArg) } : {}),
      });
      if (reader.bool("json")) output.out(JSON.stringify(results, null, 2));
      else output.out(doctorTable(results));
      const failed = results.filter((r) => r.status === "fail");
      if (failed.length) {
        throw new EnvironmentError(`${failed.length} check(s) failed: ${failed.map((r) => r.name).join(", ")}`, failed[0]?.fix);
      }
    });
}

/**
 * Status, check and what it found, each fix under its check. The columns are as wide as the
 * widest status and check name there can be, so they line up the same whatever the results.
 */
export function doctorTable(results: CheckResult[]): string {
  const statusWidth = "WARN".length;
  const nameWidth = Math.max(...CHECK_NAMES.map((name) => name.length));
  return results
    .flatMap((r) => {
      const row = `${r.status.toUpperCase().padEnd(statusWidth)}  ${r.name.padEnd(nameWidth)}  ${r.detail}`;
      return r.fix && r.status !== "ok" ? [row, `${" ".repeat(statusWidth + nameWidth + 4)}fix: ${r.fix}`] : [row];
    })
    .join("\n");
}
