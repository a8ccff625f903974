import { Command } from "commander";
import { runDoctor } from "../../doctor/checks.js";
import { EnvironmentError } from "../../errors.js";
import { loadPreset } from "../../presets/load.js";
import { table, type Output } from "../output.js";
import { settingsReader } from "../settings.js";

export function doctorCommand(output: Output): Command {
  return new Command("doctor")
    .description("check this machine before a build: docker daemon, disk space, python3 with requests, git, git-lfs")
    .option("-p, --preset <name|path>", "check for this preset's needs (e.g. disk space and git-lfs for TensorRT-LLM)")
    .option("--python <exe>", "Python 3 interpreter build.py runs with (default python3)")
    .option("--work-dir <dir>", "where runs keep their files")
    .option("--cache-dir <dir>", "component cache and git mirrors")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExamples:\n  triton-build doctor\n  triton-build doctor --preset trtllm-onnx")
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
      else {
        const rows = results.flatMap((r) => [[r.status.toUpperCase(), r.name, r.detail], ...(r.fix && r.status !== "ok" ? [["", "", `fix: ${r.fix}`]] : [])]);
        output.out(table(rows, ""));
      }
      const failed = results.filter((r) => r.status === "fail");
      if (failed.length) {
        throw new EnvironmentError(`${failed.length} check(s) failed: ${failed.map((r) => r.name).join(", ")}`, failed[0]?.fix);
      }
    });
}
