import { readFile } from "node:fs/promises";
import { z } from "zod";
import type { KeyInputs } from "./key.js";

/** The manifest's own layout version (the key has its own, CACHE_FORMAT). */
export const MANIFEST_FORMAT = 1;

/**
 * What a cache entry holds and where it came from; written last, so it marks a complete entry.
 * The schema only checks the shape; what the values may be is checked by validate.ts.
 */
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
