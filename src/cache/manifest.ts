import { readFile } from "node:fs/promises";
import { z } from "zod";
import type { KeyInputs } from "./key.js";

/** What a cache entry holds and where it came from; written last, so it marks a complete entry. */
export const manifestSchema = z.object({
  format: z.number(),
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
  return p.length > 0 && !p.startsWith("/") && !p.split("/").some((part) => part === ".." || part === "");
}
