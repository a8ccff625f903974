import { z } from "zod";
import type { KeyInputs } from "./key.js";
import { openRegularFile } from "./regular-file.js";

/** The manifest's own layout version (the key has its own, CACHE_FORMAT). */
export const MANIFEST_FORMAT = 1;

/** Far more than any real component's manifest needs (a file list of a few MB), far less than memory. */
const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

/**
 * What a cache entry holds and where it came from; written last, so it marks a complete entry.
 * It lists every path of the entry with its type: files with mode, size and sha256, symlinks
 * with their target, directories with mode. The schema only checks the shape; what the values
 * may be (paths, modes, links) is checked by validate.ts.
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

/** The manifest in `file`, or undefined when it is missing, not a regular file, too large or not a manifest. */
export async function readManifest(file: string): Promise<Manifest | undefined> {
  try {
    const handle = await openRegularFile(file);
    try {
      if ((await handle.stat()).size > MAX_MANIFEST_BYTES) return undefined;
      const parsed = manifestSchema.safeParse(JSON.parse(await handle.readFile("utf8")));
      return parsed.success ? parsed.data : undefined;
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}
