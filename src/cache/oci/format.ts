import type { Descriptor, FetchedManifest } from "../../registry/client.js";
import type { Manifest } from "../manifest.js";

/**
 * How a cache entry is stored in a registry (entry format 2): an ordinary OCI image, which every
 * registry accepts (GHCR, ECR, Harbor, Artifactory, registry:2), where custom artifact types are
 * not accepted everywhere.
 *
 *   image manifest (application/vnd.oci.image.manifest.v1+json), tag `<component>-<key>`,
 *     annotations org.triton-build.format = "2", .key, .component, .kind, .bytes, .signed
 *   config: an image config (linux, the entry's platform) with the same values as labels, and
 *     the diff_ids of the layers, so `docker pull` of an entry works for inspection
 *   layers (application/vnd.oci.image.layer.v1.tar+gzip): tar of `manifest.json` (first member
 *     of the first layer: the entry's manifest, signed when signing is on) and `files/...`; a
 *     large entry is split into several layers at file boundaries, transferred in parallel;
 *     directories and symlinks are in the first layer.
 *
 * Format 1 (before this one) was a one-layer image made by `docker import`: manifest.json and
 * files/ at its root, the same labels and no format annotation. Entries of format 1 are still read.
 */

export const ENTRY_FORMAT = "2";

export const MEDIA_TYPES = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
} as const;

export const ANNOTATION = {
  format: "org.triton-build.format",
  key: "org.triton-build.key",
  component: "org.triton-build.component",
  kind: "org.triton-build.kind",
  bytes: "org.triton-build.bytes",
  signed: "org.triton-build.signed",
} as const;

export interface LayerPlan {
  /** The entry's manifest.json goes first in this layer (the first one). */
  manifest: boolean;
  dirs: Manifest["dirs"];
  symlinks: Manifest["symlinks"];
  files: Manifest["files"];
  bytes: number;
}

/** Below this much file data, an entry is one layer. */
export const MIN_LAYER_BYTES = 64 * 2 ** 20;
/** At most this many layers: larger entries get larger layers. */
export const MAX_LAYERS = 16;

/**
 * Splits an entry into layers at file boundaries, in manifest order: about `max(64 MiB, total /
 * 16)` of file data each, so a 1 GiB entry is 16 layers and a small one stays one blob.
 */
export function planLayers(manifest: Manifest): LayerPlan[] {
  const target = Math.max(MIN_LAYER_BYTES, Math.ceil(manifest.totalBytes / MAX_LAYERS));
  const layers: LayerPlan[] = [{ manifest: true, dirs: manifest.dirs, symlinks: manifest.symlinks, files: [], bytes: 0 }];
  for (const file of manifest.files) {
    let current = layers.at(-1)!;
    if (current.bytes >= target || (current.bytes > 0 && current.bytes + file.size > target * 1.5)) {
      current = { manifest: false, dirs: [], symlinks: [], files: [], bytes: 0 };
      layers.push(current);
    }
    current.files.push(file);
    current.bytes += file.size;
  }
  return layers;
}

export interface EntryLabels {
  [ANNOTATION.format]: string;
  [ANNOTATION.key]: string;
  [ANNOTATION.component]: string;
  [ANNOTATION.kind]: string;
  [ANNOTATION.bytes]: string;
  [ANNOTATION.signed]: string;
}

export function entryLabels(manifest: Manifest, signed: boolean): EntryLabels {
  return {
    [ANNOTATION.format]: ENTRY_FORMAT,
    [ANNOTATION.key]: manifest.key,
    [ANNOTATION.component]: manifest.component.name,
    [ANNOTATION.kind]: manifest.component.kind,
    [ANNOTATION.bytes]: String(manifest.totalBytes),
    [ANNOTATION.signed]: signed ? "hmac-sha256" : "no",
  };
}

/** Docker's platform names for what `docker info` calls the architecture. */
function ociArchitecture(arch: string): string {
  const known: Record<string, string> = { x86_64: "amd64", amd64: "amd64", aarch64: "arm64", arm64: "arm64", ppc64le: "ppc64le", s390x: "s390x" };
  return known[arch] ?? arch;
}

export function imageConfig(manifest: Manifest, labels: EntryLabels, diffIds: string[]): Buffer {
  const config = {
    architecture: ociArchitecture(manifest.inputs.platform?.arch ?? "amd64"),
    os: "linux",
    created: manifest.createdAt,
    config: { Labels: labels },
    rootfs: { type: "layers", diff_ids: diffIds },
    history: diffIds.map(() => ({ created: manifest.createdAt, created_by: "triton-build cache entry" })),
  };
  return Buffer.from(JSON.stringify(config));
}

export function imageManifest(config: Descriptor, layers: Descriptor[], labels: EntryLabels): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.manifest,
      config,
      layers,
      annotations: labels,
    }),
  );
}

/** What a tag holds, as far as reading an entry goes. */
export type StoredEntry = { format: "2"; layers: Descriptor[] } | { format: "1"; layer: Descriptor; config: Descriptor } | { format: "other"; reason: string };

/** Reads an image manifest as an entry of format 2, 1, or something else (with why). */
export function storedEntry(fetched: FetchedManifest): StoredEntry {
  let parsed: { mediaType?: string; config?: Descriptor; layers?: Descriptor[]; annotations?: Record<string, string> };
  try {
    parsed = JSON.parse(fetched.bytes.toString("utf8"));
  } catch {
    return { format: "other", reason: "its manifest is not JSON" };
  }
  const mediaType = parsed.mediaType ?? fetched.mediaType;
  if (mediaType !== MEDIA_TYPES.manifest && mediaType !== MEDIA_TYPES.dockerManifest)
    return { format: "other", reason: `it is a ${mediaType}, not an image manifest` };
  const layers = Array.isArray(parsed.layers) ? parsed.layers : [];
  const wellFormed = layers.every(isDescriptor) && isDescriptor(parsed.config);
  if (!wellFormed || !layers.length) return { format: "other", reason: "its manifest has no valid layers" };
  const format = parsed.annotations?.[ANNOTATION.format];
  if (format === ENTRY_FORMAT) {
    const bad = layers.find((layer) => layer.mediaType !== MEDIA_TYPES.layer);
    if (bad) return { format: "other", reason: `a layer of type ${bad.mediaType}` };
    return { format: "2", layers };
  }
  if (format !== undefined) return { format: "other", reason: `it is of entry format ${format} (another version of triton-build)` };
  if (layers.length === 1 && (layers[0]!.mediaType === MEDIA_TYPES.dockerLayer || layers[0]!.mediaType === MEDIA_TYPES.layer)) {
    return { format: "1", layer: layers[0]!, config: parsed.config! };
  }
  return { format: "other", reason: "it is not a triton-build cache entry" };
}

function isDescriptor(value: unknown): value is Descriptor {
  const d = value as Descriptor | undefined;
  return (
    typeof d?.mediaType === "string" && typeof d.digest === "string" && /^sha256:[0-9a-f]{64}$/.test(d.digest) && Number.isSafeInteger(d.size) && d.size >= 0
  );
}
