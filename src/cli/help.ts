import { readFileSync } from "node:fs";
import path from "node:path";
import { Option, type Command } from "commander";
import { CONFIG_KEYS, DEFAULT_CACHE_DIR, DEFAULT_WORK_PARENT, envVarName, type ConfigKeyName } from "../config/keys.js";
import { configDir } from "../config/store.js";
import { collect } from "./common-options.js";

/**
 * How `--help` presents options: in groups, each option with its real default (the `config set`
 * value when there is one, else the built-in one) and its environment variable. An option is put
 * in a group by declaring it in OPTION_HELP; one nobody declared lands under "Advanced".
 */

export const HELP_GROUPS = {
  source: "Source options:",
  components: "Component options:",
  cache: "Cache and remote cache options:",
  builders: "Builder and engine options:",
  output: "Output options:",
  compose: "Compose options:",
  advanced: "Advanced options:",
} as const;
export type HelpGroup = keyof typeof HELP_GROUPS;

interface OptionHelp {
  group: HelpGroup;
  /** The default as text, for the command it is shown in (config values already read). */
  default?: (command: string, config: Record<string, unknown>) => string | undefined;
  /** The option is not read from a TRITON_BUILD_* variable. */
  noEnv?: true;
}

const fromConfig =
  (key: ConfigKeyName, builtIn?: string) =>
  (_command: string, config: Record<string, unknown>): string | undefined => {
    const value = config[key];
    if (value !== undefined) return `${String(value)} (config ${key})`;
    return builtIn ?? ("defaultText" in CONFIG_KEYS[key] ? (CONFIG_KEYS[key] as { defaultText: string }).defaultText : undefined);
  };

/** Every option of every command, by its attribute name (`--cache-dir` -> cacheDir). */
export const OPTION_HELP: Record<string, OptionHelp> = {
  preset: { group: "components" },
  backend: { group: "components" },
  without: { group: "components" },
  image: { group: "components" },
  cudaArch: { group: "components", default: () => "every architecture TensorRT-LLM supports" },
  ciImage: { group: "components" },
  source: { group: "source", default: fromConfig("source", "https://github.com/triton-inference-server/server") },
  ref: { group: "source", default: () => "the preset's release branch, e.g. r24.05" },
  githubOrganization: { group: "source", default: fromConfig("githubOrganization") },
  offline: { group: "source" },
  cacheDir: { group: "cache", default: fromConfig("cacheDir", DEFAULT_CACHE_DIR) },
  cache: { group: "cache" },
  remoteCache: { group: "cache", default: fromConfig("remoteCache", "none") },
  remoteCacheMode: { group: "cache", default: fromConfig("remoteCacheMode") },
  remoteCacheStallTimeout: { group: "cache", default: fromConfig("remoteCacheStallTimeout") },
  remote: {
    group: "cache",
    noEnv: true,
    default: (_command, config) => `--remote-cache, else config remoteCache${config.remoteCache ? ` (${String(config.remoteCache)})` : ""}`,
  },
  maxSize: { group: "cache", noEnv: true },
  olderThan: { group: "cache", noEnv: true },
  only: { group: "components" },
  cachedOnly: { group: "cache" },
  parallel: { group: "builders", default: fromConfig("parallel") },
  engine: { group: "builders", default: () => "docker's own: DOCKER_HOST, DOCKER_CONTEXT or the current context" },
  failFast: { group: "builders" },
  tag: { group: "output", default: () => "tritonserver:<release>-<preset>" },
  workDir: {
    group: "output",
    default: (command, config) => {
      const runs = String(config.workRoot ?? DEFAULT_WORK_PARENT);
      if (command === "build") return `${path.join(runs, "<run id>")} (the newest 20 runs are kept)`;
      if (command === "doctor") return runs;
      return "a temporary directory, removed afterwards";
    },
  },
  keepWorkDir: { group: "output" },
  report: { group: "output" },
  json: { group: "output" },
  trace: { group: "output" },
  quiet: { group: "output" },
  verbose: { group: "output" },
  dryRun: { group: "output" },
  schema: { group: "output", noEnv: true },
  help: { group: "output", noEnv: true },
  version: { group: "output", noEnv: true },
  strategy: { group: "compose", default: () => "build" },
  allowMissingLibs: { group: "compose" },
  jobs: { group: "advanced", default: fromConfig("jobs", "from the Docker host's cores and memory") },
  python: { group: "advanced", default: fromConfig("python") },
  pull: { group: "advanced" },
  buildpyArg: { group: "advanced" },
};

export const EXIT_CODES_HELP = "Exit codes: 0 success, 1 build failed, 2 usage or preset error, 3 environment problem (docker, python, disk), 130 interrupted.";

/** An examples section whose lines paste into a shell: each command under its `#` comment. */
export function examples(list: Array<[comment: string, command: string]>): string {
  return `\nExamples:\n${list.map(([comment, command]) => `  # ${comment}\n  ${command}`).join("\n")}`;
}

/** The environment variable an option is read from, or undefined. */
export function optionEnvVar(option: Option): string | undefined {
  const name = option.attributeName();
  if (OPTION_HELP[name]?.noEnv) return undefined;
  if (option.negate) return envVarName(`no${name[0]?.toUpperCase()}${name.slice(1)}`);
  return envVarName(name);
}

/** Groups, defaults and environment variables for the help of a command and all under it. */
export function describeOptions(root: Command): void {
  const config = readConfigForHelp();
  const walk = (command: Command) => {
    command.addHelpOption(new Option("-h, --help", "show this help").helpGroup(HELP_GROUPS.output));
    const order = Object.values(HELP_GROUPS) as string[];
    for (const option of command.options) option.helpGroup(HELP_GROUPS[OPTION_HELP[option.attributeName()]?.group ?? "advanced"]);
    // Commander lists groups in the order it first meets them.
    (command.options as Option[]).sort((a, b) => order.indexOf(a.helpGroupHeading ?? "") - order.indexOf(b.helpGroupHeading ?? ""));
    command.configureHelp({
      ...command.configureHelp(),
      optionDescription: (option: Option) => {
        const extra: string[] = [];
        if (option.parseArg === collect) extra.push("repeatable");
        if (option.argChoices) extra.push(`one of ${option.argChoices.join(", ")}`);
        const fallback = OPTION_HELP[option.attributeName()]?.default?.(command.name(), config);
        if (fallback && !option.negate && option.attributeName() !== "help") extra.push(`default: ${fallback}`);
        const env = optionEnvVar(option);
        if (env) extra.push(`env ${env}`);
        return extra.length ? `${option.description} (${extra.join("; ")})` : option.description;
      },
    });
    for (const sub of command.commands) walk(sub);
  };
  walk(root);
}

/** The user's config.json as it is, for the defaults help shows; nothing when it cannot be read. */
function readConfigForHelp(): Record<string, unknown> {
  try {
    const values: unknown = JSON.parse(readFileSync(path.join(configDir(), "config.json"), "utf8"));
    return typeof values === "object" && values !== null ? (values as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
