import { readFile } from "node:fs/promises";
import path from "node:path";
import type Conf from "conf";
import { errorMessage, UsageError } from "../errors.js";
import { pathError, usingPath, type PathRole } from "../util/fs-errors.js";
import { expectedOneOf } from "../util/suggest.js";
import { isValidImageReference } from "../docker/reference.js";
import { normalizeSourceUrl } from "../source/url.js";
import { parseSize } from "../util/units.js";
import { hasReplacementCharacter, MAX_JOBS, parseJobs, repositoryUrlProblem, showValue } from "../presets/values.js";
import { CONFIG_KEYS, DEFAULT_CONFIG_DIR, isConfigKey, type ConfigKey, type ConfigKeyName } from "./keys.js";

export type ConfigValues = Partial<Record<ConfigKeyName, string | number>>;

/** Where config.json lives: TRITON_BUILD_CONFIG_DIR, else the platform config dir. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.TRITON_BUILD_CONFIG_DIR || DEFAULT_CONFIG_DIR);
}

/** Where `config set` writes and every command reads: conf's file in the config dir. */
export function configFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(configDir(env), "config.json");
}

/**
 * conf (and its JSON-schema validator) is loaded only to write the file (`config set`/`unset`).
 * Importing it installs signal handlers (its atomic writer's dependency when-exit re-sends the
 * first SIGINT, SIGTERM or SIGHUP to the process), which would take a build's double Ctrl-C for
 * an echo; so reading the file, which every command does, never imports it.
 */
export async function openConfig(env: NodeJS.ProcessEnv = process.env): Promise<Conf<ConfigValues>> {
  const { default: ConfClass } = await import("conf");
  const properties = Object.fromEntries(
    Object.entries(CONFIG_KEYS).map(([name, key]) => [
      name,
      key.type === "integer"
        ? { type: "integer", minimum: 1, maximum: MAX_JOBS, description: key.description }
        : key.type === "enum"
          ? { type: "string", enum: [...(key as { values: readonly string[] }).values], description: key.description }
          : { type: "string", minLength: 1, description: key.description },
    ]),
  );
  return new ConfClass<ConfigValues>({
    projectName: "triton-build",
    projectSuffix: "",
    cwd: configDir(env),
    schema: properties as never,
    clearInvalidConfig: false,
  });
}

function configDirRole(env: NodeJS.ProcessEnv): PathRole {
  return { what: "config dir", path: configDir(env), option: "TRITON_BUILD_CONFIG_DIR=DIR" };
}

/**
 * Reads all values, checked as conf's schema checks them (openConfig); a config file that no
 * longer validates is reported, not silently dropped. Keys this version does not know are ignored.
 */
export async function readConfig(env: NodeJS.ProcessEnv = process.env): Promise<ConfigValues> {
  const file = configFile(env);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw pathError(error, configDirRole(env));
  }
  const invalid = (problem: string) => new UsageError(`cannot read the config file ${file}: ${problem}`, "fix or delete that config.json");
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw invalid(error instanceof TypeError ? "it is not valid UTF-8 text" : errorMessage(error));
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) throw invalid("it does not hold a JSON object");
  const values: ConfigValues = {};
  for (const [name, value] of Object.entries(data)) {
    if (!isConfigKey(name)) continue;
    const problem = storedValueProblem(CONFIG_KEYS[name], value);
    if (problem) throw invalid(`${name} ${problem}`);
    values[name] = value as string | number;
  }
  return values;
}

/** What conf's schema (openConfig) would say of a stored value; undefined when it is valid. */
function storedValueProblem(key: ConfigKey, value: unknown): string | undefined {
  if (key.type === "integer")
    return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_JOBS ? undefined : `must be an integer from 1 to ${MAX_JOBS}`;
  if (typeof value !== "string" || value === "") return "must be a non-empty string";
  if (key.type === "enum" && !(key.values ?? []).includes(value)) return `must be one of ${(key.values ?? []).join(", ")}`;
  return undefined;
}

/** `config set`: stores one value (conf validates it against the schema again). */
export async function writeConfigValue(key: ConfigKeyName, value: string | number, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await usingPath(configDirRole(env), async () => (await openConfig(env)).set(key, value));
}

/** `config unset`. */
export async function deleteConfigValue(key: ConfigKeyName, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await usingPath(configDirRole(env), async () => (await openConfig(env)).delete(key));
}

/**
 * A `config set` value, checked and stored as it will be used: relative paths become absolute
 * (the config is read from any directory later), sizes and repositories must parse.
 */
export function parseConfigValue(name: string, raw: string, cwd = process.cwd()): { key: ConfigKeyName; value: string | number } {
  if (!isConfigKey(name)) throw new UsageError(`unknown config key '${name}'; ${expectedOneOf(name, Object.keys(CONFIG_KEYS))}`);
  const key = CONFIG_KEYS[name];
  if (key.type === "integer") {
    const parsed = parseJobs(raw);
    if ("problem" in parsed) throw new UsageError(`config ${name}: ${showValue(raw)} ${parsed.problem}; expected a whole number from 1 to ${MAX_JOBS}`);
    return { key: name, value: parsed.jobs };
  }
  if (key.type === "enum" && !(key as { values: readonly string[] }).values.includes(raw)) {
    throw new UsageError(`config ${name}: '${raw}' is not valid; ${expectedOneOf(raw, (key as { values: readonly string[] }).values)}`);
  }
  if (!raw) throw new UsageError(`config ${name}: the value must not be empty; use \`config unset ${name}\``);
  if (hasReplacementCharacter(raw)) throw new UsageError(`config ${name}: ${showValue(raw)} holds bytes that are not valid UTF-8 (shown as U+FFFD)`);
  return { key: name, value: formatValue(name, "format" in key ? key.format : undefined, raw, cwd) };
}

function formatValue(name: string, format: ConfigKey["format"], raw: string, cwd: string): string {
  switch (format) {
    case "path":
      return path.resolve(cwd, raw);
    case "source":
      return normalizeSourceUrl(raw, cwd);
    case "executable":
      return raw.includes("/") ? path.resolve(cwd, raw) : raw;
    case "size":
      if (parseSize(raw) === undefined) throw new UsageError(`config ${name}: '${raw}' is not a size`, "e.g. 200GB, 1.5TB or 512MiB");
      return raw;
    case "repository-url": {
      const problem = repositoryUrlProblem(raw);
      if (problem) throw new UsageError(`config ${name}: ${showValue(raw)} ${problem}`, "e.g. https://github.com/triton-inference-server");
      return raw;
    }
    case "repository":
      if (!isImageRepository(raw)) {
        throw new UsageError(`config ${name}: '${raw}' is not an image repository`, "e.g. registry.example.com/triton-cache (lower-case, no :tag)");
      }
      return raw;
    default:
      return raw;
  }
}

/** `registry.example.com:5000/triton-cache`: a valid image reference without a tag or digest. */
export function isImageRepository(reference: string): boolean {
  return isValidImageReference(reference) && !/:[^/]*$/.test(reference);
}
