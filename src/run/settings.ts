import type { Preset } from "../presets/model.js";

/** Typed options of a run, as the CLI resolves them from flags, environment, config and preset. */
export interface CommonSettings {
  presetArg: string;
  preset: Preset;
  sourceUrl: string;
  ref: string;
  cacheDir: string;
  python: string;
  offline: boolean;
  pull: boolean;
  interactive: boolean;
  jobs?: number;
  githubOrganization?: string;
  json: boolean;
  verbose: boolean;
  /** Only warnings, errors and the closing summary. */
  quiet: boolean;
  strategy: "build" | "compose";
  ciImage: boolean;
  noCache: boolean;
  remoteCache?: string;
  remoteCacheMode: "read" | "readwrite";
  /** A registry transfer with no progress for this long is abandoned (the one warning), in seconds. */
  remoteCacheStallTimeout: number;
  /** TRITON_BUILD_CACHE_KEY: entries pushed are signed with it, entries pulled must be. Environment only. */
  cacheSigningKey?: string;
  cudaArch?: string;
}

export interface BuildSettings extends CommonSettings {
  runId: string;
  workDir: string;
  /** The user named the work dir (kept after the run), rather than a generated one. */
  workDirGiven: boolean;
  tag: string;
  reportFile?: string;
  /** After a successful build, prune the local cache to this size (config cacheMaxSize). */
  cacheMaxBytes?: number;
  keepWorkDir: boolean;
  allowMissingLibs: boolean;
  /** Builders per engine at once (--parallel); undefined: what fits each engine's cores and memory. */
  parallel?: number;
  /** Docker engines to build on (--engine, context names); [] is the docker CLI's default engine. */
  engines: string[];
  /** Stop the other builders when one component fails. */
  failFast: boolean;
  /** Compile and cache only these components; no final image (CI fan-out). [] is every component. */
  only: string[];
  /** Build the final image from the cache alone; a missing entry fails the build. */
  cachedOnly: boolean;
  /** Write the run's timeline here (Chrome trace event format). */
  traceFile?: string;
}
