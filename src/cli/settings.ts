import { randomBytes } from "node:crypto";
import path from "node:path";
import type { Command } from "commander";
import { DEFAULT_CACHE_DIR, DEFAULT_STALL_TIMEOUT_SECONDS, DEFAULT_WORK_PARENT, envVarName } from "../config/keys.js";
import { normalizeCudaArch } from "../buildpy/tensorrtllm.js";
import { isImageRepository, readConfig, type ConfigValues } from "../config/store.js";
import { UsageError } from "../errors.js";
import { loadPreset } from "../presets/load.js";
import type { BuildSettings, CommonSettings } from "../run/settings.js";
import { applyOverrides } from "../presets/overrides.js";
import { normalizeSourceUrl } from "../source/url.js";
import { expectedOneOf } from "../util/suggest.js";
import { parseSize } from "../util/units.js";
import { isValidImageReference, tagSafe } from "../docker/reference.js";

/**
 * Turns flags into typed settings. Precedence for every value: flag > TRITON_BUILD_* environment
 * variable > `config set` value > preset > built-in default.
 */

type Raw = Record<string, unknown>;

export class SettingsReader {
  constructor(
    private readonly command: Command,
    readonly env: NodeJS.ProcessEnv,
    private readonly config: ConfigValues,
  ) {}

  private fromFlag(name: string): unknown {
    const source = this.command.getOptionValueSource(name);
    return source === "cli" ? (this.command.opts() as Raw)[name] : undefined;
  }

  string(name: string, options: { config?: keyof ConfigValues; fallback?: string } = {}): string | undefined {
    const flag = this.fromFlag(name);
    if (typeof flag === "string") return flag;
    const env = this.env[envVarName(name)];
    if (env !== undefined && env !== "") return env;
    const config = options.config ? this.config[options.config] : undefined;
    if (config !== undefined) return String(config);
    return options.fallback;
  }

  /** Boolean flags; the env var accepts 1/0, true/false, yes/no. */
  bool(name: string, defaultValue = false): boolean {
    const flag = this.fromFlag(name);
    if (typeof flag === "boolean") return flag;
    const envName = envVarName(name);
    const env = this.env[envName];
    if (env === undefined || env === "") return defaultValue;
    if (/^(1|true|yes|on)$/i.test(env)) return true;
    if (/^(0|false|no|off)$/i.test(env)) return false;
    throw new UsageError(`${envName}=${env}: expected 1/0, true/false or yes/no`);
  }

  /** `--no-NAME` flags (commander keeps them as NAME=false); the env var is TRITON_BUILD_NO_NAME. */
  negated(name: string): boolean {
    const flag = this.fromFlag(name);
    if (flag === false) return true;
    return this.bool(`no${name[0]?.toUpperCase()}${name.slice(1)}`);
  }

  /**
   * Repeatable flags; the env var holds a comma- or space-separated list (space-separated only
   * where values may hold commas, e.g. build.py arguments like --image=base,IMAGE).
   */
  list(name: string, separators: RegExp = /[\s,]+/): string[] {
    const flag = this.fromFlag(name);
    if (Array.isArray(flag) && flag.length) return flag.map(String);
    const env = this.env[envVarName(name)];
    return env ? env.split(separators).filter(Boolean) : [];
  }

  integer(name: string, config?: keyof ConfigValues): number | undefined {
    const raw = this.string(name, config ? { config } : {});
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new UsageError(`${this.origin(name, config)} ${raw}: expected a positive integer`);
    return value;
  }

  choice<T extends string>(name: string, values: readonly T[], fallback: T, config?: keyof ConfigValues): T {
    const raw = this.string(name, config ? { config } : {}) ?? fallback;
    if (!values.includes(raw as T)) throw new UsageError(`${this.origin(name, config)} ${raw}: ${expectedOneOf(raw, values)}`);
    return raw as T;
  }

  /** Where a value came from, for error messages: the flag, the variable or the config key. */
  private origin(name: string, config?: keyof ConfigValues): string {
    if (this.fromFlag(name) !== undefined) return `--${kebab(name)}`;
    if (this.env[envVarName(name)]) return envVarName(name);
    return config && this.config[config] !== undefined ? `config ${config}` : `--${kebab(name)}`;
  }
}

function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

export async function settingsReader(command: Command, env: NodeJS.ProcessEnv = process.env): Promise<SettingsReader> {
  return new SettingsReader(command, env, await readConfig(env));
}

export async function resolveCommonSettings(reader: SettingsReader): Promise<CommonSettings> {
  const presetArg = reader.string("preset");
  if (!presetArg) {
    throw new UsageError("no preset given", "pass --preset NAME or --preset ./file.yaml; `triton-build presets list` shows the built-in ones");
  }
  const loaded = await loadPreset(presetArg);
  const preset = applyOverrides(loaded, {
    backends: reader.list("backend"),
    without: reader.list("without"),
    images: reader.list("image"),
    buildpyArgs: reader.list("buildpyArg", /\s+/),
  });
  const release = preset.release;
  // Checked here for every command and strategy, also where the value goes unused (compose,
  // presets without TensorRT-LLM): a wrong value is an error, not silently ignored.
  const cudaArch = reader.string("cudaArch");
  if (cudaArch !== undefined && cudaArch !== "auto") normalizeCudaArch(cudaArch);
  return {
    presetArg,
    preset,
    sourceUrl: normalizeSourceUrl(reader.string("source", { config: "source", fallback: release.serverRepo }) ?? release.serverRepo),
    ref: reader.string("ref") ?? release.serverRef,
    cacheDir: path.resolve(reader.string("cacheDir", { config: "cacheDir", fallback: DEFAULT_CACHE_DIR }) ?? DEFAULT_CACHE_DIR),
    python: reader.string("python", { config: "python", fallback: "python3" }) ?? "python3",
    offline: reader.bool("offline"),
    pull: !reader.negated("pull"),
    interactive: Boolean(process.stdin.isTTY),
    ...optional("jobs", reader.integer("jobs", "jobs")),
    ...optional("githubOrganization", reader.string("githubOrganization", { config: "githubOrganization" })),
    json: reader.bool("json"),
    verbose: reader.bool("verbose"),
    strategy: reader.choice("strategy", ["build", "compose"] as const, "build"),
    ciImage: reader.bool("ciImage"),
    noCache: reader.negated("cache"),
    ...optional("remoteCache", remoteCache(reader)),
    remoteCacheMode: reader.choice("remoteCacheMode", ["read", "readwrite"] as const, "read", "remoteCacheMode"),
    remoteCacheStallTimeout: reader.integer("remoteCacheStallTimeout", "remoteCacheStallTimeout") ?? DEFAULT_STALL_TIMEOUT_SECONDS,
    ...optional("cudaArch", cudaArch),
    ...optional("cacheSigningKey", reader.env.TRITON_BUILD_CACHE_KEY || undefined),
  };
}

export async function resolveBuildSettings(reader: SettingsReader): Promise<BuildSettings> {
  const common = await resolveCommonSettings(reader);
  const runId = newRunId(common.preset.name);
  const givenWorkDir = reader.string("workDir");
  const workParent = reader.string("workRoot", { config: "workRoot", fallback: DEFAULT_WORK_PARENT }) ?? DEFAULT_WORK_PARENT;
  return {
    ...common,
    runId,
    workDir: path.resolve(givenWorkDir ?? path.join(workParent, runId)),
    workDirGiven: givenWorkDir !== undefined,
    tag: imageTag(reader, `tritonserver:${common.preset.release.release}-${tagSafe(common.preset.name)}`),
    ...optional("reportFile", reader.string("report")),
    keepWorkDir: reader.bool("keepWorkDir"),
    ...optional("cacheMaxBytes", cacheMaxBytes(reader)),
    allowMissingLibs: reader.bool("allowMissingLibs"),
  };
}

/** Lower-case and short, because it becomes part of container names and image tags. */
export function newRunId(presetName: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const slug =
    presetName
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "")
      .slice(0, 24) || "preset";
  return `${stamp}-${slug}-${randomBytes(3).toString("hex")}`;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function cacheMaxBytes(reader: SettingsReader): number | undefined {
  const raw = reader.string("cacheMaxSize", { config: "cacheMaxSize" });
  if (raw === undefined) return undefined;
  const bytes = parseSize(raw);
  if (bytes === undefined) throw new UsageError(`cacheMaxSize ${raw}: expected a size such as 200GB`);
  return bytes;
}

function remoteCache(reader: SettingsReader): string | undefined {
  const repository = reader.string("remoteCache", { config: "remoteCache" });
  if (repository !== undefined && !isImageRepository(repository)) {
    throw new UsageError(`--remote-cache ${repository}: not an image repository`, "use e.g. registry.example.com/triton-cache (lower-case, no :tag)");
  }
  return repository;
}

function imageTag(reader: SettingsReader, fallback: string): string {
  const tag = reader.string("tag") ?? fallback;
  if (!isValidImageReference(tag)) {
    throw new UsageError(
      `--tag ${tag}: not a valid image name`,
      "use e.g. registry.example.com/triton/server:24.05-llm (lower-case repository, tag of letters, digits, '.', '_', '-')",
    );
  }
  return tag;
}
