import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Descriptor, RegistryClient } from "../../registry/client.js";
import { CacheIntegrityError } from "../../errors.js";
import type { VerifiedFiles } from "../file-stamp.js";
import { type Manifest, manifestSchema } from "../manifest.js";
import { entryLabels, imageConfig, imageManifest, MEDIA_TYPES, planLayers, storedEntry } from "./format.js";
import { runLimited } from "../../util/limited.js";
import { packLayer } from "./pack.js";
import { EntryExtraction, layerEvents, readManifestMember } from "./unpack.js";

/**
 * Moving one entry between a local entry directory and a registry tag, over the distribution API
 * with no Docker daemon in between: layers in parallel (bounded), each streamed in one pass.
 */

/** Blobs moved at once for one entry. */
export const DEFAULT_CONCURRENCY = 4;

export interface TransferOptions {
  signal?: AbortSignal;
  concurrency?: number;
}

/** The bytes of manifest.json as an entry carries it (the local cache writes the same form). */
export function manifestBytes(manifest: Manifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`);
}

/**
 * Pushes a local entry under `tag`: every layer, the config, then the image manifest last, so
 * the tag never names an incomplete entry. `manifest` is what the entry carries (signed or not).
 */
export async function pushEntry(client: RegistryClient, tag: string, entryDir: string, manifest: Manifest, options: TransferOptions = {}): Promise<void> {
  const bytes = manifestBytes(manifest);
  const layers = await runLimited(
    planLayers(manifest).map((plan) => async (signal: AbortSignal) => {
      const packed = packLayer(plan, entryDir, bytes, signal);
      const blob = await client.pushBlob(packed.chunks, signal);
      return { descriptor: { mediaType: MEDIA_TYPES.layer, ...blob }, diffId: packed.tar().diffId };
    }),
    { concurrency: options.concurrency ?? DEFAULT_CONCURRENCY, signal: options.signal },
  );
  const labels = entryLabels(manifest, manifest.signature !== undefined);
  const config = await client.pushBytes(
    imageConfig(
      manifest,
      labels,
      layers.map((l) => l.diffId),
    ),
    options.signal,
  );
  await client.putManifest(
    tag,
    MEDIA_TYPES.manifest,
    imageManifest(
      { mediaType: MEDIA_TYPES.config, ...config },
      layers.map((l) => l.descriptor),
      labels,
    ),
    options.signal,
  );
}

export type FetchResult =
  | {
      outcome: "fetched";
      manifest: Manifest;
      format: "1" | "2";
      /** The files whose sha256 was checked while they were written, with their stamps (none for format 1). */
      verified: VerifiedFiles;
    }
  | { outcome: "missing" }
  | { outcome: "unusable"; reason: string };

/**
 * Fetches the entry under `tag` into `dir` (an empty temporary entry directory). For format 2 the
 * manifest is read first and handed to `check` (key, signature, layout: throw a
 * CacheIntegrityError to refuse the entry before any file is written) and written to
 * `dir/manifest.json` as it arrived, then every layer is
 * extracted with each file's sha256 checked as it is written (`verified`). For format 1 the
 * files arrive before the manifest: they are extracted with the same refusals, the manifest is
 * checked before any symlink is made, and the caller must check every file. Registry failures throw RegistryError; a bad entry throws CacheIntegrityError.
 */
export async function fetchEntry(
  client: RegistryClient,
  tag: string,
  dir: string,
  check: (manifest: Manifest) => void,
  options: TransferOptions = {},
): Promise<FetchResult> {
  const fetched = await client.manifest(tag, [MEDIA_TYPES.manifest, MEDIA_TYPES.dockerManifest], options.signal);
  if (!fetched) return { outcome: "missing" };
  const stored = storedEntry(fetched);
  if (stored.format === "other") return { outcome: "unusable", reason: stored.reason };
  if (stored.format === "1") {
    const extraction = new EntryExtraction(dir, undefined);
    await extraction.extract(layerEvents(client.blob(stored.layer, options.signal)), options.signal);
    // Its manifest arrived among the files: checked before any symlink is made.
    const manifest = await readLegacyManifest(dir);
    check(manifest);
    await extraction.finish();
    return { outcome: "fetched", manifest, format: "1", verified: new Map() };
  }
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const [first, ...rest] = stored.layers as [Descriptor, ...Descriptor[]];
  const events = layerEvents(client.blob(first, signal))[Symbol.asyncIterator]();
  let manifest: Manifest;
  try {
    const bytes = await readManifestMember(events);
    manifest = parseManifest(bytes);
    check(manifest);
    await writeFile(path.join(dir, "manifest.json"), bytes, { flag: "wx" });
  } catch (error) {
    controller.abort(error);
    await events.return?.(undefined);
    throw error;
  }
  const extraction = new EntryExtraction(dir, manifest);
  // The first layer's download started before the others: a failure elsewhere stops it too.
  const extractFirst = (s: AbortSignal) => {
    s.addEventListener("abort", () => controller.abort(s.reason), { once: true });
    return extraction.extract(events, s);
  };
  await runLimited([extractFirst, ...rest.map((layer) => (s: AbortSignal) => extraction.extract(layerEvents(client.blob(layer, s)), s))], {
    concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
    signal,
  }).catch(async (error: unknown) => {
    await events.return?.(undefined);
    throw error;
  });
  await extraction.finish();
  return { outcome: "fetched", manifest, format: "2", verified: extraction.verified };
}

function parseManifest(bytes: Buffer): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new CacheIntegrityError("manifest.json is not JSON");
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) throw new CacheIntegrityError("manifest.json is not a valid entry manifest");
  return parsed.data;
}

async function readLegacyManifest(dir: string): Promise<Manifest> {
  const text = await readFile(path.join(dir, "manifest.json")).catch(() => undefined);
  if (!text) throw new CacheIntegrityError("the entry has no manifest.json");
  return parseManifest(text);
}
