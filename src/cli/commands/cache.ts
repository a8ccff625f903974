import path from "node:path";
import { Command } from "commander";
import { planCache } from "../../strategies/buildpy/cache-plan.js";
import type { KeyInputs } from "../../cache/key.js";
import { LocalCache } from "../../cache/store.js";
import { parseEntryTag } from "../../cache/entry-tag.js";
import { listTags } from "../../registry/lookup.js";
import { EnvironmentError, errorMessage, UsageError } from "../../errors.js";
import { formatBytes, formatDuration } from "../../progress/format.js";
import { parseDuration, parseSize } from "../../util/units.js";
import { expectedOneOf } from "../../util/suggest.js";
import { addPlanOptions } from "../common-options.js";
import { table, type Output } from "../output.js";
import { withScratchDir } from "../scratch-dir.js";
import { examples } from "../help.js";
import { resolveCommonSettings, settingsReader, type SettingsReader } from "../settings.js";
import { planFor } from "../../strategies/buildpy/plan-for.js";

function cacheFor(reader: SettingsReader): LocalCache {
  return new LocalCache(reader.cacheDir());
}

export function cacheCommand(output: Output): Command {
  const command = new Command("cache")
    .description("the component cache: what it holds, why something missed, verify, prune, clear")
    .addHelpText(
      "after",
      "\nExamples:\n  triton-build cache ls\n  triton-build cache explain onnxruntime --preset trtllm-onnx\n  triton-build cache prune --max-size 200GB --older-than 30d",
    );
  const sub = (name: string) => command.command(name).option("--cache-dir <dir>", "component cache and git mirrors");

  sub("ls")
    .description("list cache entries, most recently used first; --remote lists the shared cache's")
    .option("--remote [registry/repo]", "list the entries of the remote cache")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExamples:\n  triton-build cache ls\n  triton-build cache ls --remote registry.example.com/triton-cache")
    .action(async (opts: { remote?: string | boolean }, cmd: Command) => {
      const reader = await settingsReader(cmd);
      if (opts.remote) {
        await listRemote(typeof opts.remote === "string" ? opts.remote : reader.string("remoteCache", { config: "remoteCache" }), reader.bool("json"), output);
        return;
      }
      const entries = (await cacheFor(reader).list()).sort((a, b) => b.lastUsed.getTime() - a.lastUsed.getTime());
      if (reader.bool("json")) {
        output.out(
          JSON.stringify(
            entries.map((e) => ({
              key: e.manifest.key,
              component: e.manifest.component,
              bytes: e.manifest.totalBytes,
              files: e.manifest.files.length,
              createdAt: e.manifest.createdAt,
              lastUsed: e.lastUsed.toISOString(),
              buildDurationMs: e.manifest.buildDurationMs ?? null,
            })),
            null,
            2,
          ),
        );
        return;
      }
      const rows = [["KEY", "COMPONENT", "TAG", "SIZE", "BUILD TIME", "LAST USED"]];
      for (const e of entries) {
        rows.push([
          e.manifest.key.slice(0, 12),
          e.manifest.component.name,
          e.manifest.component.tag ?? "-",
          formatBytes(e.manifest.totalBytes),
          e.manifest.buildDurationMs !== undefined ? formatDuration(e.manifest.buildDurationMs) : "-",
          e.lastUsed.toISOString().replace("T", " ").slice(0, 19),
        ]);
      }
      output.out(entries.length ? table(rows, "") : `no entries in ${cacheFor(reader).root}: the cache is empty`);
    });

  sub("stats")
    .description("entries, bytes, and the hit ratio of recent runs")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExample:\n  triton-build cache stats")
    .action(async (_opts, cmd: Command) => {
      const reader = await settingsReader(cmd);
      const cache = cacheFor(reader);
      const entries = await cache.list();
      const runs = await cache.recentRuns(20);
      const hits = runs.reduce((s, r) => s + r.hits, 0);
      const lookups = runs.reduce((s, r) => s + r.hits + r.misses, 0);
      const stats = {
        dir: cache.root,
        entries: entries.length,
        bytes: entries.reduce((s, e) => s + e.manifest.totalBytes, 0),
        recentRuns: runs.length,
        hitRatio: lookups ? hits / lookups : null,
        buildTimeStoredMs: entries.reduce((s, e) => s + (e.manifest.buildDurationMs ?? 0), 0),
      };
      if (reader.bool("json")) output.out(JSON.stringify(stats, null, 2));
      else {
        output.out(
          table(
            [
              ["directory", stats.dir],
              ["entries", String(stats.entries)],
              ["size", formatBytes(stats.bytes)],
              ["build time they hold", formatDuration(stats.buildTimeStoredMs)],
              [
                "hit ratio",
                stats.hitRatio === null ? "no runs yet" : `${(stats.hitRatio * 100).toFixed(0)}% of ${lookups} lookups in the last ${runs.length} run(s)`,
              ],
            ],
            "",
          ),
        );
      }
    });

  addPlanOptions(command.command("explain"))
    .description("why a component hits or misses: its key inputs, compared with its newest entry")
    .argument("<component>", "component name, e.g. core or onnxruntime")
    .addHelpText(
      "after",
      examples([
        ["would this preset's onnxruntime hit, and why not", "triton-build cache explain onnxruntime --preset trtllm-onnx"],
        ["only the entries the cache has for core", "triton-build cache explain core"],
      ]),
    )
    .action(async (component: string, _opts, cmd: Command) => {
      const reader = await settingsReader(cmd);
      const cache = cacheFor(reader);
      const all = await cache.list();
      const entries = all.filter((e) => e.manifest.component.name === component);
      entries.sort((a, b) => b.manifest.createdAt.localeCompare(a.manifest.createdAt));
      const lines: string[] = [];
      if (!reader.string("preset") && !entries.length) throw unknownComponent(component, cache.root, all);
      if (reader.string("preset")) {
        const settings = await resolveCommonSettings(reader);
        await withScratchDir("triton-build-explain-", async (workDir) => {
          const { plan } = await planFor(settings, path.join(workDir, "server"), () => undefined);
          const decisions = await planCache(plan, cache, { offline: settings.offline, pull: settings.pull });
          const decision = decisions.get(component);
          if (!decision) {
            const names = [...decisions.keys()];
            throw new UsageError(
              `preset '${settings.preset.name}' caches no component '${component}'; ${expectedOneOf(component, names)}`,
              "`triton-build plan --preset NAME` lists a preset's components",
            );
          }
          lines.push(
            // The words `plan` prints in its CACHE column.
            `${component}: ${decision.hit ? "hit" : "miss"}${decision.key ? ` key ${decision.key}` : ""}`,
            `  ${decision.reason}`,
            "",
            "key inputs now:",
          );
          if (decision.inputs) lines.push(...describeInputs(decision.inputs));
        });
      }
      lines.push(
        "",
        entries.length
          ? `${entries.length} entr${entries.length === 1 ? "y" : "ies"} for ${component} in ${cache.root}, newest first:`
          : `no entries for ${component} in ${cache.root} yet: the first build of it stores one`,
      );
      for (const e of entries.slice(0, 5)) {
        lines.push(
          `- ${e.manifest.key} (${formatBytes(e.manifest.totalBytes)}, created ${e.manifest.createdAt})`,
          ...describeInputs(e.manifest.inputs).map((l) => `  ${l}`),
        );
      }
      output.out(lines.join("\n").trim());
    });

  sub("verify")
    .description("re-hash every entry; evict the ones that do not match their manifest")
    .addHelpText("after", "\nExample:\n  triton-build cache verify")
    .action(async (_opts, cmd: Command) => {
      const report = await cacheFor(await settingsReader(cmd)).verify();
      for (const item of report.evicted) output.out(`evicted ${item.label}${item.component ? ` (${item.component})` : ""}: ${item.problem}`);
      const cleaned = report.cleaned ? `, ${report.cleaned} unfinished write(s) removed` : "";
      output.out(`${report.checked} entries checked, ${report.evicted.length} evicted${cleaned}`);
    });

  sub("prune")
    .description("remove least recently used entries: beyond a total size, or unused for a while")
    .option("--max-size <size>", "keep at most this much, e.g. 200GB")
    .option("--older-than <duration>", "remove entries not used for this long, e.g. 30d or 12h")
    .addHelpText("after", "\nExample:\n  triton-build cache prune --max-size 200GB --older-than 30d")
    .action(async (opts: { maxSize?: string; olderThan?: string }, cmd: Command) => {
      const maxBytes = opts.maxSize === undefined ? undefined : parseSize(opts.maxSize);
      const olderThanMs = opts.olderThan === undefined ? undefined : parseDuration(opts.olderThan);
      if (opts.maxSize !== undefined && maxBytes === undefined) throw new UsageError(`--max-size ${opts.maxSize}: expected a size such as 200GB or 512MiB`);
      if (opts.olderThan !== undefined && olderThanMs === undefined)
        throw new UsageError(`--older-than ${opts.olderThan}: expected a duration such as 30d, 12h or 90m`);
      if (maxBytes === undefined && olderThanMs === undefined) throw new UsageError("cache prune needs --max-size or --older-than (or both)");
      const result = await cacheFor(await settingsReader(cmd)).prune({
        maxBytes,
        olderThanMs,
      });
      for (const e of result.removed)
        output.out(
          `removed ${e.manifest.key.slice(0, 12)} ${e.manifest.component.name} (${formatBytes(e.manifest.totalBytes)}, last used ${e.lastUsed.toISOString()})`,
        );
      output.out(`${result.removed.length} entries removed, ${formatBytes(result.freedBytes)} freed, ${formatBytes(result.keptBytes)} kept`);
    });

  sub("clear")
    .description("remove every entry of the component cache (git mirrors stay)")
    .addHelpText("after", "\nExample:\n  triton-build cache clear")
    .action(async (_opts, cmd: Command) => {
      const removed = await cacheFor(await settingsReader(cmd)).clear();
      output.out(`${removed} entries removed`);
    });
  return command;
}

/** `cache explain NAME` without a preset, for a name the cache has no entry of: what it does have. */
function unknownComponent(component: string, root: string, entries: Awaited<ReturnType<LocalCache["list"]>>): UsageError {
  const names = [...new Set(entries.map((e) => e.manifest.component.name))].sort();
  const known = names.length ? `; ${expectedOneOf(component, names)}` : ": the cache is empty";
  return new UsageError(
    `no cache entries for '${component}' in ${root}${known}`,
    "with --preset NAME, `cache explain` also says whether that preset's component would hit, and why not",
  );
}

function describeInputs(inputs: KeyInputs): string[] {
  const lines = [`  section text sha256 ${inputs.section.slice(0, 16)}`];
  for (const [role, source] of Object.entries(inputs.sources)) {
    lines.push(`  ${role}: ${source.url} ${source.ref} -> ${source.commit ?? `unresolved${source.error ? ` (${source.error})` : ""}`}`);
  }
  lines.push(`  base image ${inputs.buildbase.baseImage} -> ${inputs.buildbase.baseImageId ?? "unknown"}`);
  lines.push(`  Dockerfile.buildbase sha256 ${inputs.buildbase.dockerfile.slice(0, 16)}, platform ${inputs.platform.os}/${inputs.platform.arch}`);
  for (const [name, value] of Object.entries(inputs.settings)) lines.push(`  ${name} ${value}`);
  return lines;
}

async function listRemote(repository: string | undefined, json: boolean, output: Output): Promise<void> {
  if (!repository)
    throw new UsageError("no remote cache named", "pass --remote REGISTRY/REPO, or set one with `triton-build config set remoteCache REGISTRY/REPO`");
  let tags: string[];
  try {
    tags = await listTags(repository);
  } catch (error) {
    throw new EnvironmentError(
      `cannot list the tags of ${repository}: ${errorMessage(error)}`,
      "some registries do not allow listing tags; check `docker login` and the registry's permissions",
    );
  }
  const entries = tags.flatMap((tag) => {
    const entry = parseEntryTag(tag);
    return entry ? [{ tag, ...entry }] : [];
  });
  if (json) {
    output.out(JSON.stringify(entries, null, 2));
    return;
  }
  const rows = [["KEY", "COMPONENT", "IMAGE"], ...entries.map((e) => [e.key.slice(0, 12), e.name, `${repository}:${e.tag}`])];
  output.out(entries.length ? table(rows, "") : `no cache entries in ${repository}`);
}
