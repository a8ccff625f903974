/**
 * Docker image references (the grammar of distribution/reference, simplified): checked before a
 * build, because a bad `--tag` would otherwise fail only at the very end of a long run.
 */
const DOMAIN = String.raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?`;
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const TAG = "[\\w][\\w.-]{0,127}";
const REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::${TAG})?$`);

export function isValidImageReference(reference: string): boolean {
  return reference.length <= 255 && REFERENCE.test(reference);
}

/** A preset name as a tag suffix: lower-case letters, digits, `.`, `_`, `-`. */
export function tagSafe(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9_.-]+/g, "-")
      .replace(/^[.-]+|-+$/g, "")
      .slice(0, 100) || "preset"
  );
}
