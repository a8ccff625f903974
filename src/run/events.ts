/**
 * What the core tells the outside world while it works. Steps call `emit`; `progress/` turns the
 * events into the terminal view, plain lines, NDJSON or a report. Nothing in the core prints.
 */

export const PHASES = ["source", "plan", "restore", "base-image", "buildbase", "builder", "collect", "final-image", "tag", "checks"] as const;
/** The build strategy's phases: all but compose's checks. */
export const BUILD_PHASES: Phase[] = PHASES.filter((phase) => phase !== "checks");
export type Phase = (typeof PHASES)[number];

export const PHASE_TITLES: Record<Phase, string> = {
  source: "Source checkout",
  plan: "build.py --dryrun and plan",
  restore: "Restore cached components",
  "base-image": "Base image from recipe",
  buildbase: "Build image (buildbase)",
  builder: "Compile components",
  collect: "Collect install tree and cache it",
  "final-image": "Final image",
  tag: "Tag",
  checks: "Checks",
};

/** Compose runs no build.py: the phases it shares with build are titled for what it does. */
export const COMPOSE_PHASE_TITLES: Record<Phase, string> = {
  ...PHASE_TITLES,
  plan: "Plan and check the source images",
  "final-image": "Build the composed image",
  checks: "Check the copied libraries (ldd)",
};

export type Status = "ok" | "failed" | "skipped" | "cached" | "interrupted";

export type BuildEvent =
  | { type: "run-start"; runId: string; preset: string; strategy: "build" | "compose"; phases: Phase[]; workDir: string }
  /** `source` is the server checkout (build); `compose` what a compose is made from. */
  | { type: "plan"; source?: { url: string; ref: string; commit: string }; buildpyCommand?: string; components: ComponentSummary[]; compose?: ComposeSummary }
  | { type: "phase-start"; phase: Phase; title: string }
  | { type: "phase-output"; phase: Phase; line: string; step?: { current: number; total: number } }
  /** `savedMs`: a skipped phase's estimated cost, from what the cache recorded when it last ran. */
  | { type: "phase-end"; phase: Phase; status: Status; durationMs: number; detail?: string; savedMs?: number }
  | { type: "component-start"; name: string }
  | { type: "component-output"; name: string; line: string; percent?: number }
  | { type: "component-end"; name: string; status: Status; durationMs: number; logPath?: string; detail?: string }
  | { type: "component-cached"; name: string; restoreMs: number; savedMs?: number; source: "local" | "remote" }
  /** Compose: ldd ran on this many copied libraries; these need what the result lacks. */
  | { type: "libraries-checked"; checked: number; unresolved: UnresolvedLibrary[] }
  | { type: "warning"; message: string; component?: string }
  | { type: "info"; message: string }
  | ({ type: "result" } & RunResult);

/** How a run ended: what the closing summary shows, and `--json`'s last event (see tally.ts). */
export interface RunResult {
  status: "ok" | "failed" | "interrupted";
  durationMs: number;
  image?: { tag: string; id: string; sizeBytes?: number };
  error?: string;
  failedComponent?: string;
  /** Every component of the plan, in plan order. */
  components: ComponentResult[];
  /** Components restored from a cache, and components that had to be compiled. */
  hits: number;
  misses: number;
  /** hits / (hits + misses); null when no component was looked up (compose, nothing planned). */
  hitRatio: number | null;
  /** Build time saved: restored components' recorded build times plus the skipped phases' estimates. */
  savedMs: number;
  /** Phases this run did not need, with why, and what they cost when they last ran (when known). */
  skippedPhases: Array<{ phase: Phase; reason?: string; savedMs?: number }>;
  /** Where each component's log is. */
  logDir?: string;
}

export interface ComponentResult {
  name: string;
  kind: string;
  /** built: compiled in this run; copied: compose took it from a published image; restored: from a cache. */
  outcome: "built" | "copied" | "restored" | "failed" | "interrupted" | "not-run" | "skipped";
  /** restored: which cache. */
  source?: "local" | "remote";
  /** built: compile time; restored: restore time. */
  durationMs?: number;
  /** restored: the build time the cache recorded for it. */
  savedMs?: number;
  logPath?: string;
  /** skipped or not-run: why. */
  reason?: string;
}

export interface ComponentSummary {
  name: string;
  kind: string;
  tag?: string;
  /**
   * build: to compile; cached: a local cache hit, to restore (a bad entry is compiled instead, and a
   * remote hit is restored although planned as build: `component-cached` says what was restored);
   * skip: not part of this run (the CI section).
   */
  action: "build" | "cached" | "skip";
  reason?: string;
}

/** Compose: the generated Dockerfile, and each source image as checked (base first). */
export interface ComposeSummary {
  dockerfile: string;
  sources: SourceImage[];
}

export interface SourceImage {
  /** Published image name in the release data: py3, trtllm, ... */
  key: string;
  image: string;
  id: string;
  /** NVIDIA_TRITON_SERVER_VERSION and TRITON_SERVER_VERSION, when the image declares them. */
  container?: string;
  triton?: string;
}

export interface UnresolvedLibrary {
  component: string;
  kind: string;
  library: string;
  missing: string[];
  /** The component's main library: Triton cannot load the component. */
  main: boolean;
}

export type Emit = (event: BuildEvent) => void;
