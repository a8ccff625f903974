import { readFile } from "node:fs/promises";
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { errorMessage, PresetError } from "../errors.js";

export type YamlPath = ReadonlyArray<string | number | symbol>;

/** A parsed YAML file that can say on which line a value stands, for error messages. */
export interface YamlFile {
  file: string;
  data: unknown;
  locate(path: YamlPath): string;
  /** Where the key `key` of the map at `path` stands (an unknown key is reported there). */
  locateKey(path: YamlPath, key: string): string;
}

export async function readYamlFile(file: string, what: string): Promise<YamlFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw unreadable(file, what, error);
  }
  return parseYamlText(file, text);
}

/** The file itself could not be read (missing, a directory, no permission). */
export class UnreadableFileError extends PresetError {}

function unreadable(file: string, what: string, error: unknown): UnreadableFileError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT")
    return new UnreadableFileError(`${what} not found`, { file, hint: "check the path; `triton-build presets list` shows the built-in presets" });
  if (code === "EISDIR") {
    return new UnreadableFileError(`is a directory, not a ${what}`, { file, hint: "pass a YAML file (e.g. ./my-preset.yaml) or a built-in preset name" });
  }
  return new UnreadableFileError(`cannot read ${what}: ${errorMessage(error)}`, {
    file,
    hint: "check that the file exists and this user can read it",
    cause: error,
  });
}

export function parseYamlText(file: string, text: string): YamlFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const [first] = doc.errors;
  if (first) {
    const pos = first.linePos?.[0];
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    if (first.code === "MULTIPLE_DOCS") {
      throw new PresetError(`${where}: a second YAML document starts here; the file must hold one YAML document`, {
        hint: "remove that '---' line and merge the documents, or put the second one in a file of its own",
      });
    }
    throw new PresetError(`${where}: YAML syntax error: ${first.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "")}`, {
      hint: "fix the YAML at that line (indentation, a missing ':' or an unclosed quote are the usual causes)",
    });
  }
  return {
    file,
    data: doc.toJS() ?? {},
    locate: (path) => locateInDocument(doc, lineCounter, file, path),
    locateKey: (path, key) => {
      const map = path.length ? doc.getIn(path as unknown[], true) : doc.contents;
      const pair = isMap(map) ? map.items.find((item) => isScalar(item.key) && item.key.value === key) : undefined;
      if (!isNode(pair?.key) || !pair.key.range) return locateInDocument(doc, lineCounter, file, path);
      const { line, col } = lineCounter.linePos(pair.key.range[0]);
      return `${file}:${line}:${col}`;
    },
  };
}

function locateInDocument(doc: Document, lineCounter: LineCounter, file: string, path: YamlPath): string {
  // Walk up the path until a node exists: a missing key is reported where its parent stands.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) {
      const { line, col } = lineCounter.linePos(node.range[0]);
      return `${file}:${line}:${col}`;
    }
  }
  return file;
}

export function formatPath(path: YamlPath): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || "(top level)";
}

/** Validate with a zod schema; the first problems become one PresetError naming file, line and path. */
export function parseWithSchema<S extends z.ZodType>(yamlFile: YamlFile, schema: S, what: string): z.output<S> {
  const result = schema.safeParse(yamlFile.data);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => schemaProblems(issue, yamlFile.data, []));
  const lines = problems
    .slice(0, 5)
    .map((p) => `${p.key === undefined ? yamlFile.locate(p.path) : yamlFile.locateKey(p.path, p.key)}: ${formatPath(p.path)}: ${p.message}`);
  throw new PresetError(`invalid ${what}:\n  ${lines.join("\n  ")}`, {
    hint: "see `triton-build presets show --schema` for every key and its meaning",
  });
}

interface SchemaProblem {
  path: YamlPath;
  message: string;
  /** An unknown key of the map at `path`: located at the key itself. */
  key?: string;
}

/** One zod issue as problems with full paths; a union reports the branch the value was meant for. */
function schemaProblems(issue: z.core.$ZodIssue, data: unknown, prefix: YamlPath): SchemaProblem[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === "unrecognized_keys") return issue.keys.map((key) => ({ path, key, message: `unknown key '${key}'` }));
  if (issue.code === "invalid_union") {
    const branch = intendedBranch(issue.errors);
    if (branch) return branch.flatMap((inner) => schemaProblems(inner, data, path));
    const expected = [...new Set(issue.errors.flat().map((inner) => (inner.code === "invalid_type" ? inner.expected : undefined)))].filter(Boolean);
    return [{ path, message: `expected ${expected.join(" or ")}, received ${typeName(valueAt(data, path))}` }];
  }
  if (issue.code === "invalid_type" && valueAt(data, path) === undefined) {
    return [{ path, message: `required key is missing (expected ${issue.expected})` }];
  }
  return [{ path, message: issue.message }];
}

/**
 * The union branch that accepts the value's type (e.g. the recipe object, not the image string):
 * branches that reject the type outright are out; of the rest, one whose keys the value uses,
 * then the one with the fewest problems. Undefined when every branch rejects the type.
 */
function intendedBranch(branches: z.core.$ZodIssue[][]): z.core.$ZodIssue[] | undefined {
  const atRoot = (issue: z.core.$ZodIssue) => issue.path.length === 0;
  const candidates = branches.filter((issues) => !issues.every((issue) => atRoot(issue) && issue.code === "invalid_type"));
  const score = (issues: z.core.$ZodIssue[]) => (issues.some((i) => atRoot(i) && i.code === "unrecognized_keys") ? 1000 : 0) + issues.length;
  return candidates.sort((a, b) => score(a) - score(b))[0];
}

function valueAt(data: unknown, path: YamlPath): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key as PropertyKey];
  }
  return value;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "array" : typeof value;
}
