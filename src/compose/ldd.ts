import type { ComposeCopy } from "./plan.js";

/**
 * The library check of a composed image: a script that runs `ldd` on every shared library of the
 * copied components inside the result, and pure functions over what it printed.
 */

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
