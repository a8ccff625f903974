/**
 * Whether the images a compose is made from are of the preset's Triton release, as a pure
 * function over the environment each image declares.
 */

export interface SourceRelease {
  image: string;
  /** NVIDIA_TRITON_SERVER_VERSION, e.g. 24.05 */
  container?: string;
  /** TRITON_SERVER_VERSION, e.g. 2.46.0 */
  triton?: string;
}

/** The preset's release: container version and Triton version, from the release data. */
export interface ExpectedRelease {
  container: string;
  triton: string;
}

/** Each field is compared only where both sides have it: an image may declare just one. */
function differ(a: Omit<SourceRelease, "image">, b: Omit<SourceRelease, "image">): boolean {
  return Boolean((a.container && b.container && a.container !== b.container) || (a.triton && b.triton && a.triton !== b.triton));
}

function releaseText(s: Omit<SourceRelease, "image">): string {
  if (s.container && s.triton) return `${s.container} (Triton ${s.triton})`;
  return s.container ? `${s.container} (no TRITON_SERVER_VERSION)` : `Triton ${s.triton ?? "?"} (no NVIDIA_TRITON_SERVER_VERSION)`;
}

/**
 * undefined when all sources say the same release, and the preset's when given; otherwise a
 * message naming each version involved.
 */
export function releaseMismatch(sources: readonly SourceRelease[], expected?: ExpectedRelease): string | undefined {
  const describe = (s: SourceRelease) => `${s.image} is ${releaseText(s)}`;
  const unknown = sources.filter((s) => !s.container && !s.triton);
  if (unknown.length)
    return `cannot tell the Triton release of ${unknown.map((s) => s.image).join(", ")}: no TRITON_SERVER_VERSION or NVIDIA_TRITON_SERVER_VERSION in its environment`;
  if (sources.some((a, i) => sources.slice(i + 1).some((b) => differ(a, b)))) {
    return `the source images are of different Triton releases: ${sources.map(describe).join("; ")}`;
  }
  const other = expected ? sources.filter((s) => differ(s, expected)) : [];
  if (expected && other.length) return `the source images are not of the preset's release ${releaseText(expected)}: ${other.map(describe).join("; ")}`;
  return undefined;
}
