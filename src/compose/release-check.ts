/**
 * Whether the images a compose is made from are one Triton release, as a pure function over the
 * environment each image declares.
 */

export interface SourceRelease {
  image: string;
  /** NVIDIA_TRITON_SERVER_VERSION, e.g. 24.05 */
  container?: string;
  /** TRITON_SERVER_VERSION, e.g. 2.46.0 */
  triton?: string;
}

/** undefined when all sources say the same release; otherwise a message naming each. */
export function releaseMismatch(sources: readonly SourceRelease[]): string | undefined {
  const describe = (s: SourceRelease) => `${s.image} is ${s.container ?? "?"} (Triton ${s.triton ?? "?"})`;
  const unknown = sources.filter((s) => !s.container && !s.triton);
  if (unknown.length) return `cannot tell the Triton release of ${unknown.map((s) => s.image).join(", ")}: no TRITON_SERVER_VERSION or NVIDIA_TRITON_SERVER_VERSION in its environment`;
  const releases = new Set(sources.map((s) => `${s.container ?? ""}/${s.triton ?? ""}`));
  if (releases.size <= 1) return undefined;
  return `the source images are of different Triton releases: ${sources.map(describe).join("; ")}`;
}
