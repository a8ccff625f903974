import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { INSTALL_DIRS, installDirOf } from "../buildpy/cmake-build.js";
import type { KeyInputs } from "./key.js";

/** The manifest's own layout version (the key has its own, CACHE_FORMAT). */
export const MANIFEST_FORMAT = 1;

/** What a cache entry holds and where it came from; written last, so it marks a complete entry. */
export const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  key: z.string().regex(/^[0-9a-f]{64}$/),
  component: z.object({ name: z.string(), kind: z.string(), tag: z.string().optional() }),
  inputs: z.custom<KeyInputs>((v) => typeof v === "object" && v !== null),
  files: z.array(z.object({ path: z.string(), size: z.number(), sha256: z.string(), mode: z.number() })),
  symlinks: z.array(z.object({ path: z.string(), target: z.string() })),
  dirs: z.array(z.object({ path: z.string(), mode: z.number() })),
  roots: z.array(z.string()),
  totalBytes: z.number(),
  createdAt: z.string(),
  buildDurationMs: z.number().optional(),
  /** HMAC-SHA256 of the manifest without this field, when TRITON_BUILD_CACHE_KEY is set. */
  signature: z.string().optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;

export async function readManifest(file: string): Promise<Manifest | undefined> {
  try {
    const parsed = manifestSchema.safeParse(JSON.parse(await readFile(file, "utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Paths in a manifest must stay inside the entry and the install tree. */
export function isSafeRelativePath(p: string): boolean {
  return p.length > 0 && !p.startsWith("/") && !p.split("/").some((part) => part === ".." || part === "." || part === "");
}

/**
 * What is wrong with where an entry would write, or undefined. An entry (which may come from a
 * registry) may only write its own component's part of the install tree: `backends/<name>` for a
 * backend, top-level paths other than backends/repoagents/caches for core; and no symlink may
 * be a root, stand in the path of another entry, or point outside its root.
 */
export function layoutProblem(manifest: Manifest): string | undefined {
  const { kind, name } = manifest.component;
  if (!/^[a-z0-9_][a-z0-9_-]*$/.test(name)) return `component name '${name}' is not valid`;
  const dir = installDirOf(kind);
  if (dir) {
    if (manifest.roots.length !== 1 || manifest.roots[0] !== `${dir}/${name}`) return `a ${kind} may only install ${dir}/${name}`;
  } else if (kind === "core") {
    const bad = manifest.roots.find((root) => root.includes("/") || !isSafeRelativePath(root) || Object.values(INSTALL_DIRS).includes(root));
    if (bad !== undefined) return `core may not install '${bad}'`;
  } else {
    return `unknown component kind '${kind}'`;
  }
  const under = (p: string) => manifest.roots.find((root) => p === root || p.startsWith(`${root}/`));
  const paths = [...manifest.files.map((f) => f.path), ...manifest.dirs.map((d) => d.path), ...manifest.symlinks.map((l) => l.path)];
  for (const p of paths) {
    if (!isSafeRelativePath(p)) return `unsafe path ${p}`;
    if (!under(p)) return `${p} is outside the component's part of the install tree`;
  }
  for (const link of manifest.symlinks) {
    if (manifest.roots.includes(link.path)) return `root ${link.path} is a symlink`;
    if (paths.some((p) => p.startsWith(`${link.path}/`))) return `${link.path} is a symlink in the path of other files`;
    const root = under(link.path) ?? "";
    const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(link.path), link.target));
    if (link.target.startsWith("/") || !(resolved === root || resolved.startsWith(`${root}/`))) return `symlink ${link.path} points outside ${root}`;
  }
  return undefined;
}
