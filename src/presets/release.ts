import { readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PresetError } from "../errors.js";
import { expectedOneOf } from "../util/suggest.js";
import { releaseFileSchema, type ReleaseData } from "./release-schema.js";
import { parseWithSchema, readYamlFile } from "./yaml-file.js";

/** The package's `presets/` folder, both from `src/` (tests) and `dist/` (installed). */
export const BUILTIN_PRESETS_DIR = fileURLToPath(new URL("../../presets/", import.meta.url));
const RELEASES_DIR = path.join(BUILTIN_PRESETS_DIR, "releases");

const releaseCache = new Map<string, Promise<ReleaseData>>();

export async function listReleases(): Promise<string[]> {
  const files = await readdir(RELEASES_DIR);
  return files
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => f.slice(0, -".yaml".length))
    .sort();
}

export function loadRelease(release: string): Promise<ReleaseData> {
  let loaded = releaseCache.get(release);
  if (!loaded) {
    loaded = readRelease(release);
    releaseCache.set(release, loaded);
    loaded.catch(() => releaseCache.delete(release));
  }
  return loaded;
}

/** No release data for that name (the preset's `release:` is wrong, not the data). */
export class UnknownReleaseError extends PresetError {}

async function readRelease(release: string): Promise<ReleaseData> {
  const known = await listReleases();
  if (!known.includes(release)) {
    throw new UnknownReleaseError(`unknown release '${release}'; ${expectedOneOf(release, known)}`, {
      hint: `release data lives in ${RELEASES_DIR}`,
    });
  }
  const file = path.join(RELEASES_DIR, `${release}.yaml`);
  const data = parseWithSchema(await readYamlFile(file, "release data"), releaseFileSchema, "release data");
  if (data.release !== release) throw new PresetError(`says release '${data.release}' but is named ${release}.yaml`, { file });
  return data;
}
