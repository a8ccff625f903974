import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { errorMessage, PresetError } from "../errors.js";
import { pathError } from "../util/fs-errors.js";

export type YamlPath = ReadonlyArray<string | number | symbol>;

/** A parsed YAML file that can say on which line a value stands, for error messages. */
export interface YamlFile {
  file: string;
  data: unknown;
  locate(path: YamlPath): string;
  /** Where the key `key` of the map at `path` stands (an unknown key is reported there). */
  locateKey(path: YamlPath, key: string): string;
}

/** Preset and release files are a few KB; anything much larger is not one (and is not read whole). */
export const MAX_YAML_BYTES = 1024 * 1024;

/** Aliases a file may resolve: a preset needs few, and an alias bomb ("billion laughs") needs many. */
const MAX_ALIAS_COUNT = 100;

export async function readYamlFile(file: string, what: string): Promise<YamlFile> {
  return parseYamlBytes(file, await readLimited(file, what), what);
}

/**
 * The file's bytes: only a regular file (a FIFO would block the read, a device never end it),
 * and at most MAX_YAML_BYTES of it. Opened without blocking and checked by its handle, so a file
 * swapped for a FIFO meanwhile cannot block the open.
 */
async function readLimited(file: string, what: string): Promise<Buffer> {
  try {
    const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const info = await handle.stat();
      if (info.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
      if (!info.isFile()) throw new UnreadableFileError(`is not a regular file, so it is not a ${what}`, { file, hint: "pass a YAML file" });
      const buffer = Buffer.alloc(MAX_YAML_BYTES + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      if (bytesRead > MAX_YAML_BYTES) {
        throw new PresetError(`is larger than ${MAX_YAML_BYTES / 1024 / 1024} MiB, so it is not a ${what}`, {
          file,
          hint: "pass the preset's YAML file (a few KB)",
        });
      }
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof PresetError) throw error;
    throw unreadable(file, what, error);
  }
}

/** The file itself could not be read (missing, a directory, not a regular file). */
export class UnreadableFileError extends PresetError {}

function unreadable(file: string, what: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT")
    return new UnreadableFileError(`${what} not found`, { file, hint: "check the path; `triton-build presets list` shows the built-in presets" });
  if (code === "EISDIR") {
    return new UnreadableFileError(`is a directory, not a ${what}`, { file, hint: "pass a YAML file (e.g. ./my-preset.yaml) or a built-in preset name" });
  }
  // No permission, an I/O error: this machine's problem, named by the file (exit 3).
  const environment = pathError(error, { what, path: file });
  if (environment !== error) return environment as Error;
  return new UnreadableFileError(`cannot read ${what}: ${errorMessage(error)}`, {
    file,
    hint: "check that the file exists and this user can read it",
    cause: error,
  });
}

/** Text of a YAML file, which must be UTF-8: a byte that is not is an error at its line. */
export function parseYamlBytes(file: string, bytes: Uint8Array, what = "YAML file"): YamlFile {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const lenient = new TextDecoder("utf-8").decode(bytes);
    const offset = lenient.indexOf("\ufffd");
    const line = lenient.slice(0, offset).split("\n").length;
    throw new PresetError(`${file}:${line}: the ${what} is not valid UTF-8 text`, { hint: "save the file as UTF-8" });
  }
  return parseYamlText(file, text);
}

export function parseYamlText(file: string, text: string): YamlFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  // Warnings too (an unknown tag such as !!js/function, a map used as a key): a preset means what it says or nothing.
  const [first] = [...doc.errors, ...doc.warnings];
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
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (error) {
    // yaml's guard against an alias bomb, and any other value it cannot build.
    throw new PresetError(`${file}: cannot read the YAML: ${errorMessage(error)}`, {
      hint: `use at most ${MAX_ALIAS_COUNT} aliases (*name), and no alias that repeats a large part of the file many times over`,
    });
  }
  return {
    file,
    data,
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
  // A map key the schema refuses (a CMake name): each problem at the key itself.
  if (issue.code === "invalid_key") return issue.issues.map((inner) => ({ path: path.slice(0, -1), key: String(path.at(-1)), message: inner.message }));
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
