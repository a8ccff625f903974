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
import {
  CONTROL_CHARACTER,
  gitRefProblem,
  hasReplacementCharacter,
  LAYOUT_CHARACTER,
  MAX_JOBS,
  parseJobs,
  repositoryUrlProblem,
  showValue,
} from "../presets/values.js";

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
    const value = source === "cli" ? (this.command.opts() as Raw)[name] : undefined;
    for (const item of Array.isArray(value) ? value : [value]) this.requireText(`--${kebab(name)}`, item);
    return value;
  }

  private fromEnv(name: string): string | undefined {
    const variable = envVarName(name);
    const value = this.env[variable];
    this.requireText(variable, value);
    return value;
  }

  /**
   * Node decodes argv and the environment as UTF-8 and turns bytes that are not UTF-8 into
   * U+FFFD: a value holding it is not what the user typed, and is refused rather than used.
   */
  private requireText(origin: string, value: unknown): void {
    if (typeof value === "string" && hasReplacementCharacter(value)) {
      throw new UsageError(`${origin}: ${showValue(value)} holds bytes that are not valid UTF-8 (shown as U+FFFD)`, "pass the value as UTF-8 text");
    }
  }

  string(name: string, options: { config?: keyof ConfigValues; fallback?: string } = {}): string | undefined {
    const flag = this.fromFlag(name);
    if (typeof flag === "string") return flag;
    const env = this.fromEnv(name);
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
    const env = this.fromEnv(name);
    if (env === undefined || env === "") return defaultValue;
    if (/^(1|true|yes|on)$/i.test(env)) return true;
    if (/^(0|false|no|off)$/i.test(env)) return false;
    throw new UsageError(`${envName} ${showValue(env)}: expected 1/0, true/false or yes/no`);
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
    const env = this.fromEnv(name);
    return env ? env.split(separators).filter(Boolean) : [];
  }

  /** A compile job count: a positive decimal integer up to MAX_JOBS. */
  jobs(name: string, config?: keyof ConfigValues): number | undefined {
    return this.count(name, "jobs", config);
  }

  /** A count of something (jobs, builders): a positive decimal integer up to MAX_JOBS. */
  count(name: string, what: string, config?: keyof ConfigValues): number | undefined {
    const raw = this.string(name, config ? { config } : {});
    if (raw === undefined) return undefined;
    const parsed = parseJobs(raw);
    if ("problem" in parsed)
      throw new UsageError(`${this.origin(name, config)}: ${showValue(raw)} ${parsed.problem}; expected a whole number of ${what} from 1 to ${MAX_JOBS}`);
    return parsed.jobs;
  }

  /** A string value that `problem` accepts; otherwise a usage error naming where it came from. */
  checked(name: string, problem: (value: string) => string | undefined, options: { config?: keyof ConfigValues; hint?: string } = {}): string | undefined {
    const value = this.string(name, options.config ? { config: options.config } : {});
    const found = value === undefined ? undefined : problem(value);
    if (value !== undefined && found) throw new UsageError(`${this.origin(name, options.config)}: ${showValue(value)} ${found}`, options.hint);
    return value;
  }

  choice<T extends string>(name: string, values: readonly T[], fallback: T, config?: keyof ConfigValues): T {
    const raw = this.string(name, config ? { config } : {}) ?? fallback;
    if (!values.includes(raw as T)) throw new UsageError(`${this.origin(name, config)} ${showValue(raw)}: ${expectedOneOf(raw, values)}`);
    return raw as T;
  }

  /** The component cache (and git mirrors) dir: --cache-dir, TRITON_BUILD_CACHE_DIR, config cacheDir, the platform's cache dir. */
  cacheDir(): string {
    return path.resolve(this.string("cacheDir", { config: "cacheDir" }) ?? DEFAULT_CACHE_DIR);
  }

  /** Where a run's own work dir is made unless --work-dir names one. */
  workRoot(): string {
    return path.resolve(this.string("workRoot", { config: "workRoot" }) ?? DEFAULT_WORK_PARENT);
  }

  /** Where a value came from, for error messages: the flag, the variable or the config key. */
  origin(name: string, config?: keyof ConfigValues): string {
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
    backendsFrom: reader.origin("backend"),
    without: reader.list("without"),
    withoutFrom: reader.origin("without"),
    images: reader.list("image"),
    imagesFrom: reader.origin("image"),
    buildpyArgs: reader.list("buildpyArg", /\s+/),
  });
  const release = preset.release;
  // Checked here for every command and strategy, also where the value goes unused (compose,
  // presets without TensorRT-LLM): a wrong value is an error, not silently ignored.
  const cudaArch = reader.string("cudaArch");
  if (cudaArch !== undefined && cudaArch !== "auto") normalizeCudaArch(cudaArch, reader.origin("cudaArch"));
  return {
    presetArg,
    preset,
    sourceUrl: sourceUrl(reader, release.serverRepo),
    ref: reader.checked("ref", gitRefProblem, { hint: "name a branch, tag or commit of the server repository, e.g. r24.05 or v2.46.0" }) ?? release.serverRef,
    cacheDir: reader.cacheDir(),
    python: reader.string("python", { config: "python", fallback: "python3" }) ?? "python3",
    offline: reader.bool("offline"),
    pull: !reader.negated("pull"),
    interactive: Boolean(process.stdin.isTTY),
    ...optional("jobs", reader.jobs("jobs", "jobs")),
    ...optional(
      "githubOrganization",
      reader.checked("githubOrganization", repositoryUrlProblem, {
        config: "githubOrganization",
        hint: "e.g. https://github.com/triton-inference-server or file:///srv/mirrors/triton-inference-server",
      }),
    ),
    json: reader.bool("json"),
    verbose: reader.bool("verbose"),
    quiet: quietFlag(reader),
    strategy: reader.choice("strategy", ["build", "compose"] as const, "build"),
    ciImage: reader.bool("ciImage"),
    noCache: reader.negated("cache"),
    ...optional("remoteCache", remoteCache(reader)),
    remoteCacheMode: reader.choice("remoteCacheMode", ["read", "readwrite"] as const, "read", "remoteCacheMode"),
    remoteCacheStallTimeout: stallTimeoutSeconds(reader),
    ...optional("cudaArch", cudaArch),
    ...optional("cacheSigningKey", reader.env.TRITON_BUILD_CACHE_KEY || undefined),
  };
}

export async function resolveBuildSettings(reader: SettingsReader): Promise<BuildSettings> {
  const common = await resolveCommonSettings(reader);
  const runId = newRunId(common.preset.name);
  const givenWorkDir = reader.string("workDir");
  const workParent = reader.workRoot();
  const settings: BuildSettings = {
    ...common,
    runId,
    workDir: path.resolve(givenWorkDir ?? path.join(workParent, runId)),
    workDirGiven: givenWorkDir !== undefined,
    tag: imageTag(reader, `tritonserver:${common.preset.release.release}-${tagSafe(common.preset.name)}`),
    ...optional("reportFile", reader.string("report")),
    keepWorkDir: reader.bool("keepWorkDir"),
    ...optional("cacheMaxBytes", cacheMaxBytes(reader)),
    allowMissingLibs: reader.bool("allowMissingLibs"),
    ...optional("parallel", reader.count("parallel", "builders", "parallel")),
    engines: reader.list("engine"),
    failFast: reader.bool("failFast"),
    only: reader.list("only"),
    cachedOnly: reader.bool("cachedOnly"),
    ...optional("traceFile", reader.string("trace")),
  };
  checkFanOut(settings);
  return settings;
}

/** Option combinations that cannot work, refused before anything runs. */
function checkFanOut(settings: BuildSettings): void {
  const fanOut = [settings.only.length ? "--only" : "", settings.cachedOnly ? "--cached-only" : ""].filter(Boolean);
  if (fanOut.length === 2)
    throw new UsageError("--only and --cached-only exclude each other", "the --only jobs compile; one --cached-only job then builds the image");
  const [option] = fanOut;
  if (option && settings.noCache) throw new UsageError(`${option} works through the cache, and --no-cache turns it off`);
  if (option && settings.ciImage)
    throw new UsageError(`${option} cannot be combined with --ci-image`, "the CI section needs every component compiled in one builder");
  if (settings.strategy === "compose") {
    const given = [...fanOut, settings.engines.length ? "--engine" : "", settings.parallel !== undefined ? "--parallel" : ""].filter(Boolean);
    if (given.length) throw new UsageError(`${given.join(", ")}: only for --strategy build`, "compose copies published backends and compiles nothing");
  }
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

function quietFlag(reader: SettingsReader): boolean {
  const quiet = reader.bool("quiet");
  if (quiet && reader.bool("verbose")) throw new UsageError("--quiet and --verbose ask for opposite things", "pass one of them");
  return quiet;
}

function cacheMaxBytes(reader: SettingsReader): number | undefined {
  const raw = reader.string("cacheMaxSize", { config: "cacheMaxSize" });
  if (raw === undefined) return undefined;
  const bytes = parseSize(raw);
  if (bytes === undefined) throw new UsageError(`${reader.origin("cacheMaxSize", "cacheMaxSize")} ${showValue(raw)}: expected a size such as 200GB`);
  return bytes;
}

/**
 * The server repository: a URL or a local path (made absolute). A URL is held to the rules of
 * every repository URL (no shell metacharacters, no leading '-'): it only reaches git through
 * simple-git, but the same value must not be good here and refused as an organisation.
 */
function sourceUrl(reader: SettingsReader, fallback: string): string {
  const raw = reader.string("source", { config: "source" });
  if (raw === undefined) return fallback;
  const url = raw.startsWith("-") ? raw : normalizeSourceUrl(raw);
  // A local checkout is only ever an argument of git (never a word in a script): any path a
  // person may have, spaces included, but no control characters.
  const problem = url.startsWith("/") ? localPathProblem(url) : repositoryUrlProblem(url);
  if (problem) {
    throw new UsageError(
      `${reader.origin("source", "source")}: ${showValue(raw)}${url === raw ? "" : ` (${showValue(url)})`} ${problem}`,
      "e.g. https://github.com/triton-inference-server/server, git@host:org/server.git or a local checkout",
    );
  }
  return url;
}

/** Seconds without progress before a registry transfer is abandoned: 1 to MAX_JOBS, the bound config integers have. */
function stallTimeoutSeconds(reader: SettingsReader): number {
  const raw = reader.checked(
    "remoteCacheStallTimeout",
    (value) => {
      const parsed = parseJobs(value);
      return "problem" in parsed ? `${parsed.problem}; expected a whole number of seconds from 1 to ${MAX_JOBS}` : undefined;
    },
    { config: "remoteCacheStallTimeout" },
  );
  return raw === undefined ? DEFAULT_STALL_TIMEOUT_SECONDS : Number(raw);
}

function remoteCache(reader: SettingsReader): string | undefined {
  const repository = reader.string("remoteCache", { config: "remoteCache" });
  if (repository !== undefined && !isImageRepository(repository)) {
    throw new UsageError(
      `${reader.origin("remoteCache", "remoteCache")} ${showValue(repository)}: not an image repository`,
      "use e.g. registry.example.com/triton-cache (lower-case, no :tag)",
    );
  }
  return repository;
}

function imageTag(reader: SettingsReader, fallback: string): string {
  const tag = reader.string("tag") ?? fallback;
  if (!isValidImageReference(tag)) {
    throw new UsageError(
      `${reader.origin("tag")} ${showValue(tag)}: not a valid image name`,
      "use e.g. registry.example.com/triton/server:24.05-llm (lower-case repository, tag of letters, digits, '.', '_', '-')",
    );
  }
  return tag;
}

/** A local checkout's path is only an argument of git: anything a person names a directory with, but no character that rewrites what a terminal shows. */
function localPathProblem(directory: string): string | undefined {
  if (CONTROL_CHARACTER.test(directory)) return "contains a control character";
  if (LAYOUT_CHARACTER.test(directory)) return "contains a text-direction or line-separator character";
  return undefined;
}
