import envPaths from "env-paths";
import path from "node:path";

/**
 * User settings kept by `triton-build config set` (conf). One table documents each key, its
 * environment variable and its default; `config list` prints it.
 */

const paths = envPaths("triton-build", { suffix: "" });

export interface ConfigKey {
  description: string;
  type: "string" | "integer" | "enum";
  values?: readonly string[];
  /** Printed default; undefined means "none". */
  defaultText?: string;
  /**
   * How `config set` checks and stores a string: `path` is made absolute; `source` too unless it
   * is a URL; `executable` only when it names a path (has a '/'); `size` must parse as a size;
   * `repository` must be an image repository (no tag); `repository-url` a git URL without shell
   * metacharacters (build.py writes it into its script).
   */
  format?: "path" | "source" | "executable" | "size" | "repository" | "repository-url";
}

export const CONFIG_KEYS = {
  source: {
    description: "server repository URL or path (--source)",
    type: "string",
    format: "source",
    defaultText: "the release's repository, https://github.com/triton-inference-server/server",
  },
  cacheDir: { description: "component cache and git mirrors (--cache-dir)", type: "string", format: "path", defaultText: paths.cache },
  workRoot: {
    description: "where each run's work directory is made, unless --work-dir names one",
    type: "string",
    format: "path",
    defaultText: path.join(paths.data, "runs"),
  },
  python: { description: "Python 3 interpreter that runs build.py (--python)", type: "string", format: "executable", defaultText: "python3" },
  jobs: { description: "parallel compile jobs (--jobs)", type: "integer", defaultText: "chosen from cores and memory" },
  parallel: {
    description: "builders compiling at once on each engine (--parallel)",
    type: "integer",
    defaultText: "chosen from each engine's cores and memory",
  },
  githubOrganization: {
    description: "where build.py clones components from (--github-organization)",
    type: "string",
    format: "repository-url",
    defaultText: "https://github.com/triton-inference-server",
  },
  remoteCache: { description: "OCI registry repository of the shared cache (--remote-cache)", type: "string", format: "repository" },
  remoteCacheMode: {
    description: "read: only pull from the shared cache; readwrite: also push (--remote-cache-mode)",
    type: "enum",
    values: ["read", "readwrite"],
    defaultText: "read",
  },
  remoteCacheStallTimeout: {
    description: "seconds without progress after which a registry transfer is abandoned (--remote-cache-stall-timeout)",
    type: "integer",
    defaultText: "60",
  },
  cacheMaxSize: { description: "size the local cache is pruned to after a build, e.g. 200GB", type: "string", format: "size" },
} as const satisfies Record<string, ConfigKey>;

export type ConfigKeyName = keyof typeof CONFIG_KEYS;

export const DEFAULT_CACHE_DIR = paths.cache;
export const DEFAULT_STALL_TIMEOUT_SECONDS = 60;
export const DEFAULT_WORK_PARENT = path.join(paths.data, "runs");
export const DEFAULT_CONFIG_DIR = paths.config;

/** `cacheDir` -> `TRITON_BUILD_CACHE_DIR`. */
export function envVarName(optionName: string): string {
  return `TRITON_BUILD_${optionName
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/-/g, "_")
    .toUpperCase()}`;
}

export function isConfigKey(name: string): name is ConfigKeyName {
  return Object.hasOwn(CONFIG_KEYS, name);
}
