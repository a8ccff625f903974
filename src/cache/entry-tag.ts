/**
 * The one place that knows how a remote cache names an entry: the tag `<component>-<key>` in the
 * cache repository. Both the transports and `cache ls --remote` use these.
 */

export function entryTag(component: string, key: string): string {
  return `${component}-${key}`;
}

/** `<component>-<key>` tags of a remote cache, as listed by the registry; undefined for other tags. */
export function parseEntryTag(tag: string): { name: string; key: string } | undefined {
  const match = /^(.+)-([0-9a-f]{64})$/.exec(tag);
  return match?.[1] && match[2] ? { name: match[1], key: match[2] } : undefined;
}
