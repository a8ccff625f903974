import { createHmac, timingSafeEqual } from "node:crypto";
import { canonicalJson } from "./key.js";
import type { Manifest } from "./manifest.js";

/**
 * Optional signing of shared cache entries (TRITON_BUILD_CACHE_KEY): an HMAC-SHA256 of the
 * manifest, which lists every file's sha256. Whoever can push to the registry but does not hold
 * the key cannot make an entry that is used.
 */
export function signManifest(manifest: Manifest, secret: string): string {
  const { signature: _ignored, ...unsigned } = manifest;
  return createHmac("sha256", secret).update(canonicalJson(unsigned)).digest("hex");
}

/** undefined when the signature is right; otherwise what is wrong. */
export function signatureProblem(manifest: Manifest, secret: string): string | undefined {
  if (!manifest.signature) return "the entry is not signed";
  const expected = Buffer.from(signManifest(manifest, secret), "hex");
  const actual = Buffer.from(manifest.signature, "hex");
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual))
    return "the entry's signature does not match (altered, or signed with another key)";
  return undefined;
}
