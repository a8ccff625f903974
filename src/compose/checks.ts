import type { ComposeCopy } from "./plan.js";

/**
 * Checks of a composed image, as pure functions over what docker reported: all sources are one
 * release; every copied library resolves its dependencies inside the result.
 */

export interface SourceRelease {
  image: string;
  /** NVIDIA_TRITON_SERVER_VERSION, e.g. 24.05 */
  container?: string;
  /** TRITON_SERVER_VERSION, e.g. 2.46.0 */
  triton?: string;
}

/** undefined when all sources say the same release; otherwise a message naming each. */
export function releaseMismatch(sources: readonly SourceRelease[]): string | undefined {
  const describe = (s: SourceRelease) => `${s.image} is ${s.container ?? "?"} (Triton ${s.triton ?? "?"})`;
  const unknown = sources.filter((s) => !s.container && !s.triton);
  if (unknown.length) return `cannot tell the Triton release of ${unknown.map((s) => s.image).join(", ")}: no TRITON_SERVER_VERSION or NVIDIA_TRITON_SERVER_VERSION in its environment`;
  const releases = new Set(sources.map((s) => `${s.container ?? ""}/${s.triton ?? ""}`));
  if (releases.size <= 1) return undefined;
  return `the source images are of different Triton releases: ${sources.map(describe).join("; ")}`;
}

export interface LibraryReport {
  library: string;
  missing: string[];
}

export const LIB_MARKER = "@@triton-build-lib ";

/** Lists every shared library under the given dirs and runs ldd on each (busybox or bash sh). */
export const LDD_SCRIPT = `for dir in "$@"; do
  [ -d "$dir" ] || continue
  find "$dir" -type f \\( -name '*.so' -o -name '*.so.*' \\) | sort | while read -r lib; do
    echo "${LIB_MARKER}$lib"
    ldd "$lib" 2>&1 || true
  done
done`;

/** Reads the script's output: each library and the dependencies ldd could not find. */
export function parseLddOutput(output: string): LibraryReport[] {
  const reports: LibraryReport[] = [];
  let current: LibraryReport | undefined;
  for (const raw of output.split("\n")) {
    const line = raw.replace(/\r$/, "");
    if (line.startsWith(LIB_MARKER)) {
      current = { library: line.slice(LIB_MARKER.length).trim(), missing: [] };
      reports.push(current);
      continue;
    }
    const missing = /^\s*(\S+)\s+=>\s+not found/.exec(line);
    if (missing?.[1] && current && !current.missing.includes(missing[1])) current.missing.push(missing[1]);
  }
  return reports;
}

export function mainLibraryName(copy: Pick<ComposeCopy, "name" | "kind">): string {
  if (copy.kind === "repoagent") return `libtritonrepoagent_${copy.name}.so`;
  if (copy.kind === "cache") return `libtritoncache_${copy.name}.so`;
  return `libtriton_${copy.name}.so`;
}

export interface UnresolvedDependency {
  component: string;
  library: string;
  missing: string[];
  /** The component's main library: Triton cannot load the component at all. */
  main: boolean;
}

/** Unresolved dependencies per copied component, the main library's marked. */
export function unresolvedByComponent(copies: readonly ComposeCopy[], reports: readonly LibraryReport[]): UnresolvedDependency[] {
  const found: UnresolvedDependency[] = [];
  for (const report of reports) {
    if (!report.missing.length) continue;
    const copy = copies.find((c) => report.library === c.path || report.library.startsWith(`${c.path}/`));
    if (!copy) continue;
    const base = report.library.split("/").pop() ?? report.library;
    found.push({ component: copy.name, library: report.library, missing: report.missing, main: base === mainLibraryName(copy) });
  }
  return found;
}
