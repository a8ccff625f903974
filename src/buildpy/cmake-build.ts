/**
 * build.py's `cmake_build` script, split into its sections. Line-based and tolerant: lines it
 * does not recognise stay where they are, so rewriting never loses a command.
 */

export type ComponentKind = "core" | "backend" | "repoagent" | "cache" | "ci";

/**
 * Where build.py merges each kind of component into the install tree: `backends/<name>`,
 * `repoagents/<name>`, `caches/<name>`; core contributes everything else. The one definition.
 */
export const INSTALL_DIRS: Readonly<Record<"backend" | "repoagent" | "cache", string>> = { backend: "backends", repoagent: "repoagents", cache: "caches" };

/** The install-tree directory of a component kind; undefined for core and ci. */
export function installDirOf(kind: string): string | undefined {
  return Object.hasOwn(INSTALL_DIRS, kind) ? INSTALL_DIRS[kind as keyof typeof INSTALL_DIRS] : undefined;
}

export interface CmakeSection {
  /** Component name: `core`, `ci`, or the backend / repository agent / response cache name. */
  name: string;
  kind: ComponentKind;
  /** Every line of the section, frame lines included. */
  lines: string[];
  /** The branch or tag the section clones (for core: its TRITON_CORE_REPO_TAG). */
  tag?: string;
  /** The repository URL the section clones. */
  repoUrl?: string;
}

export type ScriptChunk = { type: "lines"; lines: string[] } | { type: "section"; section: CmakeSection };

export interface CmakeBuildScript {
  chunks: ScriptChunk[];
  sections: CmakeSection[];
}

const FRAME = "########";
const CORE_TITLE = "Triton core library and tritonserver executable";
const CI_TITLE = "Collect Triton CI artifacts";

interface SectionTitle {
  name: string;
  kind: ComponentKind;
  endTitle: string;
}

/** Recognises the comment line after a frame: what section starts here. */
export function parseSectionTitle(line: string): SectionTitle | undefined {
  const text = line.replace(/^#\s?/, "").trimEnd();
  if (!line.startsWith("#")) return undefined;
  if (text === CORE_TITLE) return { name: "core", kind: "core", endTitle: `end ${CORE_TITLE}` };
  if (text === CI_TITLE) return { name: "ci", kind: "ci", endTitle: "end Triton CI artifacts" };
  const match = /^'([^']+)' (backend|repository agent|cache)$/.exec(text);
  if (!match) return undefined;
  const [, name = "", what] = match;
  const kind: ComponentKind = what === "backend" ? "backend" : what === "cache" ? "cache" : "repoagent";
  return { name, kind, endTitle: `end '${name}' ${what}` };
}

export function parseCmakeBuild(text: string): CmakeBuildScript {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  const chunks: ScriptChunk[] = [];
  const sections: CmakeSection[] = [];
  let loose: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    const title = line.trim() === FRAME ? parseSectionTitle(lines[i + 1] ?? "") : undefined;
    const end = title ? findSectionEnd(lines, i + 2, title.endTitle) : -1;
    if (!title || end < 0) {
      loose.push(line);
      i++;
      continue;
    }
    if (loose.length) chunks.push({ type: "lines", lines: loose });
    loose = [];
    const sectionLines = lines.slice(i, end + 1);
    const section: CmakeSection = { name: title.name, kind: title.kind, lines: sectionLines, ...findCloneSource(sectionLines) };
    if (section.kind === "core") {
      const coreTag = parseCmakeDefines(sectionLines).TRITON_CORE_REPO_TAG;
      if (coreTag) section.tag = coreTag;
    }
    chunks.push({ type: "section", section });
    sections.push(section);
    i = end + 1;
  }
  if (loose.length) chunks.push({ type: "lines", lines: loose });
  return { chunks, sections };
}

/** Index of the closing frame line after `# end <title>`, or -1 when the section is unterminated. */
function findSectionEnd(lines: string[], from: number, endTitle: string): number {
  for (let j = from; j < lines.length; j++) {
    const text = (lines[j] ?? "").replace(/^#\s?/, "").trimEnd();
    if ((lines[j] ?? "").startsWith("#") && text === endTitle) {
      return (lines[j + 1] ?? "").trim() === FRAME ? j + 1 : j;
    }
  }
  return -1;
}

/** `git clone ... -b TAG URL DIR`, or the `pull/N/head` form that fetches the ref after cloning. */
export function findCloneSource(lines: readonly string[]): { tag?: string; repoUrl?: string } {
  for (const [index, line] of lines.entries()) {
    const words = line.trim().replace(/;$/, "").split(/\s+/);
    const clone = words.indexOf("clone");
    if (words[0] !== "git" || clone !== 1) continue;
    const positional = words.slice(2).filter((w, k, all) => !w.startsWith("-") && all[k - 1] !== "-b");
    const branchFlag = words.indexOf("-b");
    const repoUrl = positional[0];
    if (branchFlag > 0 && words[branchFlag + 1]) return { tag: words[branchFlag + 1], repoUrl };
    const fetch = lines.slice(index + 1).find((l) => /^\s*git fetch origin \S+:/.test(l));
    const ref = fetch ? /git fetch origin (\S+):/.exec(fetch)?.[1] : undefined;
    return ref ? { tag: ref, repoUrl } : { repoUrl };
  }
  return {};
}

/** `-DNAME[:TYPE]=VALUE` arguments of the cmake configure lines in a section, quotes removed. */
export function parseCmakeDefines(lines: readonly string[]): Record<string, string> {
  const defines: Record<string, string> = {};
  for (const line of lines) {
    if (!/^\s*cmake\s/.test(line) || /^\s*cmake\s+--build/.test(line)) continue;
    for (const match of line.matchAll(/"?-D([A-Za-z0-9_]+)(?::[A-Z]+)?=([^"\s]*)"?/g)) {
      const [, name, value] = match;
      if (name) defines[name] = value ?? "";
    }
  }
  return defines;
}
