import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// ARCHITECTURE.md is kept true by this test: every folder under src/ is named in it, and every
// import between folders is one its code map allows ("May import:" under the folder's heading).

const SRC = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(SRC);

/** Every directory under src/, as "cache" or "strategies/buildpy/steps". */
function srcFolders(): string[] {
  const found: string[] = [];
  const walk = (relative: string): void => {
    for (const entry of readdirSync(path.join(SRC, relative), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      found.push(child);
      walk(child);
    }
  };
  walk("");
  return found.sort();
}

/** Every non-test .ts file under src/, relative to src/. */
function sourceFiles(): string[] {
  const files = readdirSync(SRC, { recursive: true, encoding: "utf8" });
  return files.filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts")).map((f) => f.split(path.sep).join("/"));
}

type CodeMap = { named: Set<string>; mayImport: Map<string, Set<string>> };

/** The folders a markdown file names as `src/x/`, and each heading's "May import:" list. */
function readCodeMap(markdown: string): CodeMap {
  const named = new Set([...markdown.matchAll(/`src\/([\w/-]+?)\/`/g)].map((m) => m[1] as string));
  const mayImport = new Map<string, Set<string>>();
  let heading: string | undefined;
  for (const line of markdown.split("\n")) {
    const title = /^###\s+`src\/([\w/-]+?)\/`/.exec(line);
    if (title) heading = title[1];
    else if (line.startsWith("#")) heading = undefined;
    const allowed = /^May import:\s*(.*?)\.?\s*$/.exec(line);
    if (allowed && heading) {
      const names = allowed[1] === "nothing" ? [] : (allowed[1] ?? "").split(/,\s*/);
      mayImport.set(heading, new Set(names));
    }
  }
  return { named, mayImport };
}

/** The code-map area a path under src/ belongs to: the deepest folder with a "May import:" line. */
function areaOf(file: string, areas: Iterable<string>): string {
  let best = "";
  for (const area of areas) if (file.startsWith(`${area}/`) && area.length > best.length) best = area;
  return best;
}

/** Relative imports of a source file, as paths relative to src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(SRC, file), "utf8");
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1] as string);
  return specifiers.map((s) => path.posix.normalize(path.posix.join(path.posix.dirname(file), s)));
}

const codeMap = readCodeMap(readFileSync(path.join(ROOT, "ARCHITECTURE.md"), "utf8"));

describe("ARCHITECTURE.md", () => {
  it("names every folder under src/", () => {
    const missing = srcFolders().filter((folder) => !codeMap.named.has(folder));
    expect(missing).toEqual([]);
  });

  it("names no folder that does not exist", () => {
    const folders = new Set(srcFolders());
    expect([...codeMap.named].filter((folder) => !folders.has(folder))).toEqual([]);
  });

  it("gives every file under src/ an area with import rules (only errors.ts sits at the top)", () => {
    const homeless = sourceFiles().filter((file) => file.includes("/") && !areaOf(file, codeMap.mayImport.keys()));
    expect(homeless).toEqual([]);
    expect(sourceFiles().filter((file) => !file.includes("/"))).toEqual(["errors.ts"]);
  });

  it("lists in each area's 'May import' only areas that exist", () => {
    const areas = new Set(codeMap.mayImport.keys());
    const unknown = [...codeMap.mayImport].flatMap(([area, allowed]) => [...allowed].filter((a) => !areas.has(a)).map((a) => `${area} -> ${a}`));
    expect(unknown).toEqual([]);
  });

  it("holds every import between areas to the code map", () => {
    const areas = [...codeMap.mayImport.keys()];
    const violations: string[] = [];
    for (const file of sourceFiles()) {
      const from = areaOf(file, areas);
      for (const target of importsOf(file)) {
        if (!target.includes("/")) continue; // src/errors.ts, which every area may use
        const to = areaOf(target, areas);
        if (to !== from && !codeMap.mayImport.get(from)?.has(to)) violations.push(`${file} imports ${target} (${from} may not import ${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("has no strategy importing another strategy", () => {
    const crossings = sourceFiles()
      .filter((file) => file.startsWith("strategies/"))
      .flatMap((file) => {
        const own = file.split("/")[1];
        return importsOf(file)
          .filter((target) => target.startsWith("strategies/") && target.split("/")[1] !== own)
          .map((target) => `${file} -> ${target}`);
      });
    expect(crossings).toEqual([]);
  });
});

describe("rules that hold everywhere", () => {
  const ADAPTERS = [/^docker\//, /^source\//, /^buildpy\/run\.ts$/, /^gpu\//];

  it("spawns processes only in the adapters", () => {
    const spawning = sourceFiles().filter((file) =>
      /from\s+"(execa|simple-git|node:child_process|child_process)"/.test(readFileSync(path.join(SRC, file), "utf8")),
    );
    expect(spawning.filter((file) => !ADAPTERS.some((adapter) => adapter.test(file)))).toEqual([]);
    expect(spawning.length).toBeGreaterThan(0);
  });

  it("writes to stdout and stderr only from cli/ and progress/", () => {
    const writers = sourceFiles().filter((file) => {
      if (file.startsWith("cli/") || file.startsWith("progress/")) return false;
      const text = readFileSync(path.join(SRC, file), "utf8");
      return /(?<![\w.])process\.(stdout|stderr)\b/.test(text) || /\bconsole\.(log|error|warn|info)\(/.test(text);
    });
    expect(writers).toEqual([]);
  });

  it("uses no listr2 (the live view in progress/ replaced it)", () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    expect(Object.keys(pkg.dependencies ?? {})).not.toContain("listr2");
    expect(sourceFiles().filter((file) => readFileSync(path.join(SRC, file), "utf8").includes('"listr2"'))).toEqual([]);
  });

  it("reads the code map's rules as written (a guard against a parser that finds nothing)", () => {
    const sample = readCodeMap(["### `src/a/`", "May import: b, c.", "### `src/b/`", "May import: nothing.", "see `src/c/`"].join("\n"));
    expect([...sample.named].sort()).toEqual(["a", "b", "c"]);
    expect(sample.mayImport.get("a")).toEqual(new Set(["b", "c"]));
    expect(sample.mayImport.get("b")).toEqual(new Set());
    expect(codeMap.mayImport.size).toBeGreaterThan(10);
  });
});
