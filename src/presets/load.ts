import { readdir } from "node:fs/promises";
import path from "node:path";
import { PresetError } from "../errors.js";
import { expectedOneOf } from "../util/suggest.js";
import { mergeChain, type LoadedFile } from "./merge.js";
import type { Preset } from "./model.js";
import { BUILTIN_PRESETS_DIR, loadRelease, UnknownReleaseError } from "./release.js";
import { presetFileSchema } from "./schema.js";
import { validatePresetNames } from "./validate.js";
import { parseWithSchema, readYamlFile, UnreadableFileError } from "./yaml-file.js";

export interface BuiltinPresetEntry {
  name: string;
  aliases: string[];
  description: string;
  file: string;
}

/** Built-in presets by name, with their aliases (read from the files, not hard-coded). */
export async function listBuiltinPresets(dir = BUILTIN_PRESETS_DIR): Promise<BuiltinPresetEntry[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".yaml")).sort();
  const entries: BuiltinPresetEntry[] = [];
  for (const f of files) {
    const loaded = await readPresetFile(path.join(dir, f));
    entries.push({ name: loaded.name, aliases: loaded.preset.aliases, description: loaded.preset.description, file: loaded.file });
  }
  return entries;
}

/** A name or alias of a built-in preset, or a path to a preset file. */
export async function resolvePresetFile(nameOrPath: string, relativeTo = process.cwd()): Promise<string> {
  if (looksLikePath(nameOrPath)) return path.resolve(relativeTo, nameOrPath);
  const builtins = await listBuiltinPresets();
  const match = builtins.find((p) => p.name === nameOrPath || p.aliases.includes(nameOrPath));
  if (match) return match.file;
  const names = builtins.flatMap((p) => [p.name, ...p.aliases]);
  throw new UnknownPresetError(`unknown preset '${nameOrPath}'; ${expectedOneOf(nameOrPath, names)}`, {
    hint: "run `triton-build presets list`, or pass the path of your own preset file (e.g. ./my-preset.yaml)",
  });
}

class UnknownPresetError extends PresetError {}

function looksLikePath(value: string): boolean {
  return value.includes("/") || value.includes(path.sep) || /\.ya?ml$/.test(value);
}

async function readPresetFile(file: string): Promise<LoadedFile> {
  const yaml = await readYamlFile(file, "preset file");
  const preset = parseWithSchema(yaml, presetFileSchema, "preset");
  return { file, yaml, preset, name: preset.name ?? path.basename(file).replace(/\.ya?ml$/, "") };
}

/** Loads a preset and everything it extends, validates names against its release, and merges. */
export async function loadPreset(nameOrPath: string): Promise<Preset> {
  const chain = await loadExtendsChain(await resolvePresetFile(nameOrPath));
  const setter = chain.find((c) => c.preset.release);
  if (!setter?.preset.release) {
    throw new PresetError("no release is set by this preset or any preset it extends", {
      file: chain[0]?.file,
      hint: 'add e.g. `release: "24.05"`',
    });
  }
  const release = await loadRelease(setter.preset.release).catch((error: unknown) => {
    if (!(error instanceof UnknownReleaseError)) throw error;
    throw new PresetError(`${setter.yaml.locate(["release"])}: release: ${error.message}`, { hint: error.hint });
  });
  for (const link of chain) validatePresetNames(link.yaml, link.preset, release);
  return mergeChain(chain, release);
}

/** The file first, then its parent, grandparent...; a cycle is an error naming the loop. */
async function loadExtendsChain(file: string): Promise<LoadedFile[]> {
  const chain: LoadedFile[] = [await readPresetFile(file)];
  for (let child = chain[0]; child?.preset.extends !== undefined; child = chain.at(-1)) {
    const parent = child.preset.extends;
    const parentFile = await inExtendsOf(child, () => resolvePresetFile(parent, path.dirname(child.file)));
    if (chain.some((c) => c.file === parentFile)) {
      // Files, as the `extends:` lines name them: relative to the first file's directory.
      const loop = [...chain.map((c) => c.file), parentFile].map((f) => path.relative(path.dirname(file), f)).join(" -> ");
      throw new PresetError(`extends cycle: ${loop}`, { file, hint: "remove one of the `extends:` lines in that loop" });
    }
    chain.push(await inExtendsOf(child, () => readPresetFile(parentFile)));
  }
  return chain;
}

/**
 * Resolving or reading the file a preset extends: a name that is not a preset, or a file that
 * cannot be read, is reported at the `extends:` line that names it. (Problems inside a parent
 * that was read name the parent's own file and line.)
 */
async function inExtendsOf<T>(child: LoadedFile, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof UnknownPresetError || error instanceof UnreadableFileError) {
      throw new PresetError(`${child.yaml.locate(["extends"])}: extends: ${error.message}`, { hint: error.hint });
    }
    throw error;
  }
}
