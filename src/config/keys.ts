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
}

export const CONFIG_KEYS = {
  source: {
    description: "server repository URL or path (--source)",
    type: "string",
    defaultText: "the release's repository, https://github.com/triton-inference-server/server",
  },
  cacheDir: { description: "component cache and git mirrors (--cache-dir)", type: "string", defaultText: paths.cache },
  workRoot: {
    description: "where each run's work directory is made, unless --work-dir names one",
    type: "string",
    defaultText: path.join(paths.data, "runs"),
  },
  python: { description: "Python 3 interpreter that runs build.py (--python)", type: "string", defaultText: "python3" },
  jobs: { description: "parallel compile jobs (--jobs)", type: "integer", defaultText: "chosen from cores and memory" },
  githubOrganization: {
    description: "where build.py clones components from (--github-organization)",
    type: "string",
    defaultText: "https://github.com/triton-inference-server",
  },
  remoteCache: { description: "OCI registry repository of the shared cache (--remote-cache)", type: "string" },
  remoteCacheMode: {
    description: "read: only pull from the shared cache; readwrite: also push (--remote-cache-mode)",
    type: "enum",
    values: ["read", "readwrite"],
    defaultText: "read",
  },
  cacheMaxSize: { description: "size the local cache is pruned to after a build, e.g. 200GB", type: "string" },
} as const satisfies Record<string, ConfigKey>;

export type ConfigKeyName = keyof typeof CONFIG_KEYS;

export const DEFAULT_CACHE_DIR = paths.cache;
export const DEFAULT_WORK_PARENT = path.join(paths.data, "runs");
export const DEFAULT_CONFIG_DIR = paths.config;

/** `cacheDir` -> `TRITON_BUILD_CACHE_DIR`. */
export function envVarName(optionName: string): string {
  return `TRITON_BUILD_${optionName.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/-/g, "_").toUpperCase()}`;
}

export function isConfigKey(name: string): name is ConfigKeyName {
  return Object.hasOwn(CONFIG_KEYS, name);
}
