import path from "node:path";

/**
 * What `--source` names: a URL (`https://…`, `ssh://…`, `file://…`) or scp-style `user@host:path`
 * is remote; anything else is a local path. One rule, shared by every caller, so a value is never
 * a URL to one and a path to another.
 */
export function isRemoteSource(source: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(source) || /^[^/\s]+@[^:\s]+:/.test(source);
}

/** `--source` accepts URLs and local paths; local paths are made absolute so mirrors are keyed stably. */
export function normalizeSourceUrl(source: string, cwd = process.cwd()): string {
  return isRemoteSource(source) ? source : path.resolve(cwd, source);
}
