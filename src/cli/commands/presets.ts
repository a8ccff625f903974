import { Command } from "commander";
import { stringify } from "yaml";
import { z } from "zod";
import { loadPreset, listBuiltinPresets } from "../../presets/load.js";
import { formatComponentRef, type Preset } from "../../presets/model.js";
import { presetFileSchema } from "../../presets/schema.js";
import { UsageError } from "../../errors.js";
import { table, type Output } from "../output.js";

export function presetsCommand(output: Output): Command {
  const command = new Command("presets")
    .description("list the built-in presets or show what one contains")
    .addHelpText(
      "after",
      "\nExamples:\n  triton-build presets list\n  triton-build presets show trtllm-onnx\n  triton-build presets show ./my-preset.yaml --json",
    );

  command
    .command("list", { isDefault: true })
    .description("the built-in presets, their aliases and backends")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExample:\n  triton-build presets list")
    .action(async (opts: { json?: boolean }) => {
      const entries = await listBuiltinPresets();
      const presets = await Promise.all(entries.map((e) => loadPreset(e.file)));
      if (opts.json) {
        output.out(
          JSON.stringify(
            presets.map((p) => ({
              name: p.name,
              aliases: p.aliases,
              description: p.description,
              release: p.release.release,
              backends: p.backends.map(formatComponentRef),
            })),
            null,
            2,
          ),
        );
        return;
      }
      const rows = [["NAME", "ALIASES", "RELEASE", "BACKENDS"]];
      for (const p of presets) rows.push([p.name, p.aliases.join(", ") || "-", p.release.release, p.backends.map(formatComponentRef).join(" ")]);
      output.out(table(rows, ""));
      output.out("\nUse one with `triton-build --preset NAME`, or pass your own file: `--preset ./my-preset.yaml`.");
    });

  command
    .command("show")
    .description("everything a preset sets, after `extends` is merged")
    .argument("[name|path]", "preset name, alias or file")
    .option("--json", "print JSON")
    .option("--schema", "describe every key a preset file can have")
    .addHelpText("after", "\nExamples:\n  triton-build presets show full\n  triton-build presets show --schema")
    .action(async (nameOrPath: string | undefined, opts: { json?: boolean; schema?: boolean }) => {
      if (opts.schema) {
        output.out(JSON.stringify(z.toJSONSchema(presetFileSchema, { io: "input" }), null, 2));
        return;
      }
      if (!nameOrPath) throw new UsageError("presets show needs a preset name or file", "e.g. `triton-build presets show trtllm-onnx`");
      const preset = await loadPreset(nameOrPath);
      const view = presetView(preset);
      output.out(opts.json ? JSON.stringify(view, null, 2) : stringify(view).trimEnd());
    });
  return command;
}

export function presetView(preset: Preset) {
  return {
    name: preset.name,
    aliases: preset.aliases,
    description: preset.description,
    files: preset.files,
    release: preset.release.release,
    features: preset.features,
    endpoints: preset.endpoints,
    filesystems: preset.filesystems,
    backends: preset.backends.map(formatComponentRef),
    repoAgents: preset.repoAgents.map(formatComponentRef),
    responseCaches: preset.responseCaches.map(formatComponentRef),
    images: Object.fromEntries(Object.entries(preset.images).map(([name, spec]) => [name, spec.kind === "ref" ? spec.ref : { recipe: spec.recipe }])),
    repoTags: preset.repoTags,
    cmakeArgs: preset.cmakeArgs,
    buildType: preset.buildType,
    minComputeCapability: preset.minComputeCapability,
    githubOrganization: preset.githubOrganization,
    buildpyArgs: preset.buildpyArgs,
  };
}
