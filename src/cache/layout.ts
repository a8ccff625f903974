import { randomBytes } from "node:crypto";
import path from "node:path";
import { processHostTag } from "../util/process.js";
import type { PathRole } from "../util/fs-errors.js";

/**
 * Where everything of the local component cache lives, content-addressed under `<cache-dir>/components/v1/`:
 *   entries/<k2>/<key>/{manifest.json, files/..., last-used}   committed entries
 *   tmp/<key>.<host>.<pid>.<random>/                           entries being written or received
 *   tmp/evicted-<name>.<random>/                                entries being removed
 *   locks/<key>.lock                                            one writer per key
 *   runs.ndjson                                                 one line per build, for `cache stats`
 * Only paths and names: nothing here touches the disk.
 */

export const CACHE_LAYOUT_VERSION = "v1";

const KEY = /^[0-9a-f]{64}$/;

export class CacheLayout {
  /** `<cache-dir>/components/v1`. */
  readonly root: string;

  constructor(readonly cacheDir: string) {
    this.root = path.join(cacheDir, "components", CACHE_LAYOUT_VERSION);
  }

  get entriesDir(): string {
    return path.join(this.root, "entries");
  }

  get tmpDir(): string {
    return path.join(this.root, "tmp");
  }

  get runLog(): string {
    return path.join(this.root, "runs.ndjson");
  }

  entryDir(key: string): string {
    return path.join(this.entriesDir, key.slice(0, 2), key);
  }

  lockTarget(key: string): string {
    return path.join(this.root, "locks", key);
  }

  /** A fresh name in tmp/ for an entry of `key` that this process writes. */
  newTempPath(key: string): string {
    return path.join(this.tmpDir, `${key}.${processHostTag()}.${process.pid}.${randomBytes(4).toString("hex")}`);
  }

  /** A fresh name in tmp/ that an entry dir is renamed to before it is removed. */
  trashPath(name: string): string {
    return path.join(this.tmpDir, `evicted-${name}.${randomBytes(4).toString("hex")}`);
  }

  /** How errors name this cache's directory (see util/fs-errors). */
  get role(): PathRole {
    return { what: "cache dir", path: this.cacheDir, option: "--cache-dir DIR" };
  }
}

/** Whether a name under entries/<k2>/ is a key that belongs under that prefix. */
export function isEntryName(prefix: string, name: string): boolean {
  return KEY.test(name) && name.slice(0, 2) === prefix;
}

/** The writer of a tmp/ name made by newTempPath: its host tag and pid; undefined for other names. */
export function parseTempName(name: string): { host: string; pid: number } | undefined {
  const match = /^[0-9a-f]{64}\.([0-9a-f]{8})\.(\d+)\./.exec(name);
  return match?.[1] && match[2] ? { host: match[1], pid: Number(match[2]) } : undefined;
}
