import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { PROJECT_ROOT } from "./fixture-repo.js";

/**
 * Which source folders a document names, so a test can hold a map of the code (README's
 * development map, ARCHITECTURE.md) to the folders that exist. A folder is named by its path
 * with a trailing slash (`src/cache/`, `src/strategies/buildpy/`); naming a subfolder names its
 * parents too. `section`: only the part of the file under that heading (up to the next heading
 * of the same or a higher level); the whole file otherwise.
 */
export function foldersNamedIn(markdownPath: string, options: { section?: string } = {}): Set<string> {
  const markdown = readFileSync(markdownPath, "utf8");
  return foldersNamedInText(options.section ? sectionOf(markdown, options.section) : markdown);
}

/** foldersNamedIn of a text. */
export function foldersNamedInText(text: string): Set<string> {
  const named = new Set<string>();
  for (const [, folder = ""] of text.matchAll(/(?<![\w/.-])(src(?:\/[\w.-]+)+)\//g)) {
    const parts = folder.split("/");
    for (let i = 2; i <= parts.length; i++) named.add(parts.slice(0, i).join("/"));
  }
  return named;
}

/** The folders directly under src/ (or under `parent`, relative to the project root), as `src/name`, sorted. */
export function srcFolders(parent = "src"): string[] {
  return readdirSync(path.join(PROJECT_ROOT, parent), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `${parent}/${entry.name}`)
    .sort();
}

/** The lines under `## heading` (any level) up to the next heading of the same or a higher level; "" when there is none. */
export function sectionOf(markdown: string, heading: string): string {
  const lines = markdown.split("\n");
  // Headings outside fenced code blocks only: a `# comment` in a shell example is no heading.
  let fenced = false;
  const headings = lines.map((line) => {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const match = fenced ? null : /^(#{1,6})\s+(.*?)\s*$/.exec(line);
    return match ? { level: match[1]?.length ?? 0, title: match[2] ?? "" } : undefined;
  });
  const start = headings.findIndex((h) => h?.title === heading);
  if (start < 0) return "";
  const level = headings[start]?.level ?? 0;
  const end = headings.findIndex((h, i) => i > start && h !== undefined && h.level <= level);
  return lines.slice(start + 1, end < 0 ? undefined : end).join("\n");
}
