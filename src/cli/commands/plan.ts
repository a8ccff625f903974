import path from "node:path";
import { Command } from "commander";
import { planCache, type CacheDecision } from "../../strategies/buildpy/cache-plan.js";
import type { BuildEvent } from "../../run/events.js";
import type { Plan } from "../../strategies/buildpy/plan.js";
import { planFor } from "../../strategies/buildpy/plan-for.js";
import type { BuildResources } from "../../strategies/buildpy/resources.js";
import { buildWheelLine } from "../../buildpy/tensorrtllm.js";
import { LocalCache } from "../../cache/store.js";
import { tagExists } from "../../registry/lookup.js";
import { composeDockerfile, planCompose, type ComposePlan } from "../../strategies/compose/plan.js";
import { addPlanOptions } from "../common-options.js";
import type { CommonSettings } from "../../run/settings.js";
import { resolveCommonSettings, settingsReader, type SettingsReader } from "../settings.js";
import { EXIT_CODES_HELP, examples } from "../help.js";
import { table, type Output } from "../output.js";
import { withScratchDir } from "../scratch-dir.js";
import { claimWorkDir } from "../../run/run-dir.js";
import { errorMessage } from "../../errors.js";

export function planCommand(output: Output): Command {
  const command = addPlanOptions(new Command("plan"))
    .description("show what a build would do: source commit, build.py command line, components; runs nothing in Docker")
    .option("--work-dir <dir>", "keep the checkout here")
    .addHelpText(
      "after",
      `${examples([
        ["what a build of this preset would do", "triton-build plan --preset trtllm-onnx"],
        ["the same from a mirror, as JSON", "triton-build plan --preset ./my-preset.yaml --source /srv/mirrors/server --json"],
      ])}\n\n${EXIT_CODES_HELP}`,
    )
    .action(async (_opts, cmd: Command) => showPlan(await settingsReader(cmd), output));
  return command;
}

/** `plan`, and `build --dry-run`: everything up to running anything in Docker, shown. */
export async function showPlan(reader: SettingsReader, output: Output): Promise<void> {
  const settings = await resolveCommonSettings(reader);
  if (settings.strategy === "compose") {
    const plan = planCompose(settings.preset, settings);
    const dockerfile = composeDockerfile(plan, settings.preset);
    output.out(settings.json ? JSON.stringify(composePlanJson(settings.preset.name, plan, dockerfile), null, 2) : composePlanText(plan, dockerfile));
    return;
  }
  const given = reader.string("workDir");
  const show = async (workDir: string) => {
    const { plan, resources } = await planFor(settings, path.join(workDir, "server"), (event) => reportPlanEvent(event, settings, output));
    const decisions = settings.noCache
      ? new Map<string, CacheDecision>()
      : await planCache(plan, new LocalCache(settings.cacheDir), {
          offline: settings.offline,
          pull: settings.pull,
          onWarning: (message) => {
            plan.warnings.push(message);
            output.err(`warning: ${message}`);
          },
        });
    if (settings.remoteCache) await markRemoteHits(decisions, settings.remoteCache, output);
    output.out(settings.json ? JSON.stringify(planJson(plan, decisions, resources), null, 2) : planText(plan, decisions, resources));
  };
  if (given) {
    const workDir = path.resolve(given);
    await claimWorkDir(workDir);
    await show(workDir);
  } else await withScratchDir("triton-build-plan-", show);
}

function reportPlanEvent(event: BuildEvent, settings: CommonSettings, output: Output): void {
  if (event.type === "warning") output.err(`warning: ${event.message}`);
  else if (settings.verbose && event.type === "phase-output") output.err(event.line);
}

export function planJson(plan: Plan, decisions: Map<string, CacheDecision>, resources: BuildResources) {
  return {
    preset: plan.preset.name,
    presetFiles: plan.preset.files,
    release: plan.preset.release.release,
    source: { url: plan.source.url, ref: plan.source.ref, commit: plan.source.commit },
    python: plan.python,
    buildpy: { argv: plan.buildpy.argv, command: plan.buildpy.command },
    settings: {
      jobs: resources.jobs,
      jobsReason: resources.jobsReason,
      ...(resources.cudaArch ? { cudaArch: resources.cudaArch } : {}),
      ...(resources.cudaArchReason ? { cudaArchReason: resources.cudaArchReason } : {}),
    },
    images: {
      refs: plan.images.refs,
      recipes: plan.images.recipes.map((r) => ({
        name: r.name,
        tag: r.tag,
        repo: r.recipe.repo,
        ref: r.recipe.ref,
        commit: r.commit ?? null,
        dockerfile: r.recipe.dockerfile,
      })),
    },
    components: plan.components.map((c) => {
      const decision = decisions.get(c.name);
      return {
        name: c.name,
        kind: c.kind,
        tag: c.tag ?? null,
        repo: c.repoUrl ?? null,
        action: decision?.hit ? "cached" : c.action,
        ...(decision ? { cache: decision.hit ? "hit" : "miss", key: decision.key ?? null, ...(decision.hit ? { from: decision.source ?? "local" } : {}) } : {}),
        ...(c.reason || decision ? { reason: c.reason ?? decision?.reason } : {}),
        ...(c.name === "tensorrtllm" ? { buildWheel: buildWheelLine(c.lines) ?? null } : {}),
      };
    }),
    /** What CI fans out: one `build --only NAME` job per entry, then one `build --cached-only` job. */
    fanOut: plan.components.filter((c) => c.action === "build" && c.kind !== "ci").map((c) => c.name),
    dockerSteps: plan.dockerSteps.map((s) => ({ kind: s.kind, command: s.command })),
    warnings: plan.warnings,
  };
}

export function planText(plan: Plan, decisions: Map<string, CacheDecision>, resources: BuildResources): string {
  const lines = [
    `Preset     ${plan.preset.name} (${plan.preset.files[0]})`,
    `Release    ${plan.preset.release.release} (Triton ${plan.preset.release.tritonVersion})`,
    `Source     ${plan.source.url}`,
    `Ref        ${plan.source.ref} -> ${plan.source.commit}`,
    "",
    "build.py command line (run in the server checkout):",
    `  ${plan.buildpy.command}`,
    "",
    `Jobs       ${resources.jobsReason}`,
  ];
  if (resources.cudaArchReason) lines.push(`CUDA       ${resources.cudaArchReason}`);
  const wheel = plan.components.find((c) => c.name === "tensorrtllm");
  if (wheel) lines.push(`TensorRT-LLM wheel: ${buildWheelLine(wheel.lines) ?? "(no build_wheel.py line)"}`);
  if (plan.images.recipes.length) {
    lines.push("", "Images built from recipes first:");
    for (const r of plan.images.recipes) {
      lines.push(`  ${r.name}: ${r.tag} from ${r.recipe.repo}@${r.recipe.ref}${r.commit ? ` (${r.commit.slice(0, 12)})` : ""} ${r.recipe.dockerfile}`);
    }
  }
  lines.push("", "Components (sections of build/cmake_build):");
  const rows = [["NAME", "KIND", "TAG", "CACHE", "KEY", "ACTION"]];
  for (const c of plan.components) {
    const decision = decisions.get(c.name);
    const cache = decision ? (decision.hit ? (decision.source === "remote" ? "remote" : "hit") : "miss") : "-";
    const action = decision?.hit ? "restore" : c.action;
    const why = c.reason ?? (decision && !decision.hit ? decision.reason : undefined);
    rows.push([c.name, c.kind, c.tag ?? "-", cache, decision?.key?.slice(0, 12) ?? "-", why ? `${action} (${why})` : action]);
  }
  lines.push(table(rows));
  return lines.join("\n");
}

export function composePlanJson(preset: string, plan: ComposePlan, dockerfile: string) {
  return {
    preset,
    strategy: "compose",
    base: plan.base,
    components: [
      ...plan.inBase.map((c) => ({ name: c.name, kind: c.kind, from: plan.base.image, action: "in-base" })),
      ...plan.copies.map((c) => ({ name: c.name, kind: c.kind, from: c.from.image, path: c.path, action: "copy" })),
    ],
    sources: plan.sources,
    dockerfile,
    warnings: plan.warnings,
  };
}

export function composePlanText(plan: ComposePlan, dockerfile: string): string {
  const rows = [["NAME", "KIND", "FROM"]];
  for (const c of plan.inBase) rows.push([c.name, c.kind, `${plan.base.image} (base)`]);
  for (const c of plan.copies) rows.push([c.name, c.kind, c.from.image]);
  return [
    `Strategy   compose: base ${plan.base.image} (${plan.base.reason})`,
    ...plan.warnings.map((w) => `warning: ${w}`),
    "",
    "Components:",
    table(rows),
    "",
    "Dockerfile:",
    dockerfile.trimEnd(),
    "",
    "After the build: every source must report the same Triton release, and ldd must resolve every copied library.",
  ].join("\n");
}

/** For local misses, asks the registry whether the shared cache has the entry (no pull). */
async function markRemoteHits(decisions: Map<string, CacheDecision>, repository: string, output: Output): Promise<void> {
  for (const decision of decisions.values()) {
    if (decision.hit || !decision.key) continue;
    try {
      if (await tagExists(repository, `${decision.name}-${decision.key}`)) {
        decision.hit = true;
        decision.source = "remote";
        decision.reason = `in the remote cache ${repository}`;
      }
    } catch (error) {
      output.err(`warning: remote cache ${repository} is unavailable (${errorMessage(error)})`);
      return;
    }
  }
}
