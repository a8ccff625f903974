import { KIND_NAMES, type ComposeCopy, type ComposeKind } from "./plan.js";

/**
 * The library check of a composed image: a script that runs `ldd` on every shared library of the
 * copied components inside the result, and pure functions over what it printed.
 */

export interface LibraryReport {
  library: string;
  missing: string[];
}

export const LIB_MARKER = "@@triton-build-lib ";
export const DIR_MARKER = "@@triton-build-dir ";
export const NO_TOOL_MARKER = "@@triton-build-no-tool ";

/**
 * Lists every shared library under the given dirs and runs ldd on each (busybox or bash sh).
 * Without ldd every library would look clean (`sh: ldd: not found` names no missing
 * dependency), and without find or sort nothing would be listed: the script stops first, naming
 * the tool. Each dir it scans is named, so a dir it could not scan is seen as unchecked rather
 * than as clean. A file ldd refuses (not a dynamic object) is not a failure.
 */
export const LDD_SCRIPT = `for tool in ldd find sort; do
  command -v "$tool" >/dev/null 2>&1 || { echo "${NO_TOOL_MARKER}$tool" >&2; exit 127; }
done
for dir in "$@"; do
  [ -d "$dir" ] || continue
  echo "${DIR_MARKER}$dir"
  find "$dir" -type f \\( -name '*.so' -o -name '*.so.*' \\) | sort | while read -r lib; do
    echo "${LIB_MARKER}$lib"
    ldd "$lib" 2>&1 || true
  done
done`;

/** The tool the script found missing in the image, from its stderr. */
export function missingTool(stderr: string): string | undefined {
  const line = stderr.split("\n").find((l) => l.startsWith(NO_TOOL_MARKER));
  return line?.slice(NO_TOOL_MARKER.length).trim() || undefined;
}

/** The dirs the script scanned (those that exist in the image). */
export function scannedDirs(output: string): string[] {
  return output
    .split("\n")
    .filter((line) => line.startsWith(DIR_MARKER))
    .map((line) => line.slice(DIR_MARKER.length).replace(/\r$/, "").trim());
}

/**
 * Copies the check did not look at; copies it looked at but found no library in; and copies
 * without their main library (`libtriton_<name>.so` at the top of the dir, where Triton looks).
 */
export function uncheckedCopies(
  copies: readonly ComposeCopy[],
  dirs: readonly string[],
  reports: readonly LibraryReport[],
): { notScanned: ComposeCopy[]; withoutLibraries: ComposeCopy[]; withoutMain: ComposeCopy[] } {
  const scanned = copies.filter((c) => dirs.includes(c.path));
  return {
    notScanned: copies.filter((c) => !dirs.includes(c.path)),
    withoutLibraries: scanned.filter((c) => !reports.some((r) => r.library.startsWith(`${c.path}/`))),
    withoutMain: scanned.filter((c) => !reports.some((r) => r.library === `${c.path}/${mainLibraryName(c)}`)),
  };
}

/** The warning for a copy without its main library; a Python-based backend legitimately has none. */
export function missingMainMessage(copy: ComposeCopy, hasLibraries: boolean): string {
  const kind = KIND_NAMES[copy.kind];
  const checked = hasLibraries ? "" : `no shared library under ${copy.path}, so ldd checked nothing of it, and `;
  const exception = copy.kind === "backend" ? " (only a Python-based backend has none)" : "";
  return `${copy.name}: ${checked}no ${mainLibraryName(copy)} in ${copy.path}: Triton cannot load the ${kind} without it${exception}`;
}

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
  kind: ComposeKind;
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
    found.push({ component: copy.name, kind: copy.kind, library: report.library, missing: report.missing, main: base === mainLibraryName(copy) });
  }
  return found;
}

/** The warning for one unresolved dependency, saying what a missing main library means for its kind. */
export function unresolvedMessage(problem: UnresolvedDependency): string {
  const needs = `${problem.component}: ${problem.library} needs ${problem.missing.join(", ")}, which ${problem.missing.length === 1 ? "is" : "are"} not in the image`;
  const kind = KIND_NAMES[problem.kind];
  return problem.main ? `${needs} (the ${kind}'s main library: Triton cannot load the ${kind})` : needs;
}
