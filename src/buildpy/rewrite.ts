import type { CmakeBuildScript, CmakeSection } from "./cmake-build.js";

/**
 * Rewrites build.py's cmake_build instead of editing it by hand: sections that are not built
 * this run (cache hits, the CI section) are removed, and the others get begin/end markers so the
 * executor knows exactly which component each output line belongs to and when it finished.
 */

export interface RewriteOptions {
  /** Names of the sections to keep and run. */
  build: ReadonlySet<string>;
  /** Random per run, so a component's own output can never look like a marker. */
  nonce: string;
  /** Per-section changes (e.g. TensorRT-LLM's build_wheel.py arguments). */
  transformSection?: (section: CmakeSection) => string[];
  /**
   * Lines run first (after stderr is merged), and lines run at the start of each section's
   * subshell: the run's environment, not part of any section's text (so not of its cache key).
   */
  prelude?: readonly string[];
  sectionPrelude?: (section: CmakeSection) => string[];
}

const MARKER_PREFIX = "@@triton-build";

export function markerLine(nonce: string, edge: "begin" | "end", name: string): string {
  return `${MARKER_PREFIX}:${nonce}:${edge}:${name}`;
}

/**
 * The command that prints a marker. The marker is assembled by printf, so bash's `set -x` trace
 * of the command (build.py -v) never contains the marker itself and cannot be taken for one.
 */
export function markerCommand(nonce: string, edge: "begin" | "end", name: string): string {
  return `printf '%s:%s:%s:%s\\n' '${MARKER_PREFIX}' '${nonce}' '${edge}' '${name}'`;
}

/**
 * Put right after the shebang: one ordered output stream. Read as two pipes, stderr lines (a
 * failed clone's message) could arrive after the next marker and land in the wrong log.
 */
export const MERGE_STDERR = "exec 2>&1";

export function parseMarker(line: string, nonce: string): { edge: "begin" | "end"; name: string } | undefined {
  const prefix = `${MARKER_PREFIX}:${nonce}:`;
  if (!line.startsWith(prefix)) return undefined;
  const [edge, ...rest] = line.slice(prefix.length).trim().split(":");
  const name = rest.join(":");
  if ((edge === "begin" || edge === "end") && name) return { edge, name };
  return undefined;
}

export function rewriteCmakeBuild(script: CmakeBuildScript, options: RewriteOptions): string {
  const out: string[] = [];
  let merged = false;
  const removed = new Set(script.sections.filter((s) => !options.build.has(s.name)).map((s) => s.name));
  for (const chunk of script.chunks) {
    if (chunk.type === "lines") {
      for (const line of chunk.lines) {
        out.push(guardTrailingChmod(line, removed));
        if (!merged && line.startsWith("#!")) {
          out.push(MERGE_STDERR, ...(options.prelude ?? []));
          merged = true;
        }
      }
      continue;
    }
    const { section } = chunk;
    if (!options.build.has(section.name)) continue;
    const body = options.transformSection ? options.transformSection(section) : section.lines;
    // Each section runs in a subshell: its `export`s and `cd`s (tensorrtllm exports TRT_ROOT and
    // LD_LIBRARY_PATH) cannot reach the sections after it, so a component builds the same whether
    // or not an earlier one came from the cache, as its cache key assumes. `set -e` still stops
    // the script when a section fails.
    const prelude = options.sectionPrelude?.(section) ?? [];
    out.push(markerCommand(options.nonce, "begin", section.name), "(", ...prelude, ...body, ")", markerCommand(options.nonce, "end", section.name));
  }
  if (!merged) out.unshift(MERGE_STDERR, ...(options.prelude ?? []));
  return out.join("\n");
}

/**
 * build.py ends with `chmod -R a+rw` of the install and CI dirs. With the CI section removed, or
 * nothing left to install, those dirs may not exist, and under `set -e` the chmod would fail the run.
 */
function guardTrailingChmod(line: string, removed: ReadonlySet<string>): string {
  const match = /^chmod -R a\+rw (\S+)\s*$/.exec(line);
  if (!match || removed.size === 0) return line;
  return `if [ -e ${match[1]} ]; then ${line.trim()}; fi`;
}
