import { readFile } from "node:fs/promises";
import { isNode, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { PresetError } from "../errors.js";

export type YamlPath = ReadonlyArray<string | number | symbol>;

/** A parsed YAML file that can say on which line a value stands, for error messages. */
export interface YamlFile {
  file: string;
  data: unknown;
  locate(path: YamlPath): string;
}

export async function readYamlFile(file: string, what: string): Promise<YamlFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PresetError(code === "ENOENT" ? `${what} not found` : `cannot read ${what}: ${String(error)}`, {
      file,
      hint: code === "ENOENT" ? "check the path; `triton-build presets list` shows the built-in presets" : undefined,
    });
  }
  return parseYamlText(file, text);
}

export function parseYamlText(file: string, text: string): YamlFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const [first] = doc.errors;
  if (first) {
    const pos = first.linePos?.[0];
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    throw new PresetError(`${where}: YAML syntax error: ${first.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "")}`, {
      hint: "fix the YAML at that line (indentation, a missing ':' or an unclosed quote are the usual causes)",
    });
  }
  return {
    file,
    data: doc.toJS() ?? {},
    locate: (path) => locateInDocument(doc, lineCounter, file, path),
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
  const lines = result.error.issues.slice(0, 5).map((issue) => {
    const where = yamlFile.locate(issue.path);
    return `${where}: ${formatPath(issue.path)}: ${describeIssue(issue)}`;
  });
  throw new PresetError(`invalid ${what}:\n  ${lines.join("\n  ")}`, {
    hint: "see `triton-build presets show --schema` for every key and its meaning",
  });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") {
    return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'`).join(", ")}`;
  }
  if (issue.code === "invalid_union") {
    // Unions here are "string or object" shapes: report the string form, which is what users write.
    const firstBranch = issue.errors[0]?.[0];
    return firstBranch ? describeIssue(firstBranch) : issue.message;
  }
  return issue.message;
}
