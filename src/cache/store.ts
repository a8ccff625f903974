import { mkdir } from "node:fs/promises";
import path from "node:path";
import { adoptEntry, type AdoptOptions, incomingManifestProblem } from "./adopt.js";
import { committedManifest, touchEntry } from "./commit.js";
import type { VerifiedFiles } from "./file-stamp.js";
import { clear, cleanTemp, evictEntry, type EntryInfo, type PruneResult, prune, scanEntries } from "./gc.js";
import { CacheLayout } from "./layout.js";
import type { Manifest } from "./manifest.js";
import type { EntrySink, OutgoingEntry } from "./remote.js";
import { restoreEntry, type RestoreOptions, type RestoreResult } from "./restore.js";
import { recentRuns, recordRun, type RunRecord } from "./run-log.js";
import { signatureProblem, signManifest } from "./signing.js";
import { checkEntry, type VerifyReport, verifyCache } from "./verify.js";
import type { CacheComponent } from "./validate.js";
import { storeEntry, type StoreRequest } from "./write.js";

export type { EntryInfo } from "./gc.js";
export { EntryGoneError, type RestoreResult } from "./restore.js";
export type { StoreRequest } from "./write.js";

/**
 * The local component cache, split by concern as cacache is: layout.ts (paths and temp names),
 * write.ts (store), adopt.ts (entries from elsewhere), commit.ts (the one way an entry is moved
 * into place), restore.ts, validate.ts (what an entry may hold), verify.ts, gc.ts (evict, prune,
 * clean, clear) and run-log.ts. This class is the one handle the rest of the program holds.
 *
 * An entry is written under tmp/, checked, and renamed into entries/ last, so a reader never sees
 * half of one, and a writer killed with -9 leaves only tmp/ garbage that the next run removes.
 * Every file's sha256 is checked again on restore; a bad entry is evicted, never used.
 */
export class LocalCache {
  readonly layout: CacheLayout;
  /** Entries this process adopted, with the files whose sha256 was checked on the way in: restore need not read those again. */
  private readonly verifiedHere = new Map<string, VerifiedFiles>();

  constructor(cacheDir: string) {
    this.layout = new CacheLayout(cacheDir);
  }

  /** `<cache-dir>/components/v1`. */
  get root(): string {
    return this.layout.root;
  }

  entryDir(key: string): string {
    return this.layout.entryDir(key);
  }

  /** The committed entry's manifest, or undefined (no entry, or one whose manifest is unreadable). */
  get(key: string): Promise<Manifest | undefined> {
    return committedManifest(this.layout, key);
  }

  async list(): Promise<EntryInfo[]> {
    return (await scanEntries(this.layout)).entries;
  }

  /** Names under entries/ that are no entry: a missing or unreadable manifest (e.g. cut short by a power loss), or a stray name. */
  async broken(): Promise<string[]> {
    return (await scanEntries(this.layout)).junk.map((item) => item.name);
  }

  /** Copies a built component's outputs out of the install tree into a new entry. */
  store(request: StoreRequest): Promise<"stored" | "exists" | "empty"> {
    return storeEntry(this.layout, request);
  }

  /** A directory in the cache's tmp/ for an entry that `adopt` then moves into place. */
  async newTempDir(key: string): Promise<string> {
    const dir = this.layout.newTempPath(key);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** Checks an entry that arrived in `tmp` and moves it into the cache; the temp dir is removed either way. */
  async adopt(tmp: string, key: string, options: AdoptOptions = {}): Promise<Manifest> {
    const manifest = await adoptEntry(this.layout, tmp, key, options);
    if (options.verified?.size) this.verifiedHere.set(key, options.verified);
    return manifest;
  }

  /**
   * Where a remote transport puts an entry of `component` it fetched: a temp dir here, then
   * adopt with every check, the signature too when a signing key is set.
   */
  incoming(key: string, component: CacheComponent, options: { signingKey?: string | undefined } = {}): EntrySink {
    const { signingKey } = options;
    const check = signingKey ? (manifest: Manifest) => signatureProblem(manifest, signingKey) : undefined;
    return {
      tempDir: () => this.newTempDir(key),
      precheck: (manifest) => incomingManifestProblem(manifest, key, { check, component }),
      adopt: (dir, signal, adoptOptions) => this.adopt(dir, key, { component, signal, ...(check ? { check } : {}), ...adoptOptions }),
    };
  }

  /** What a remote transport pushes for `key`: the manifest (signed when a key is set) and the files; undefined without an entry. */
  async outgoing(key: string, options: { signingKey?: string | undefined } = {}): Promise<OutgoingEntry | undefined> {
    const manifest = await this.get(key);
    if (!manifest) return undefined;
    const { signingKey } = options;
    return {
      manifest: signingKey ? { ...manifest, signature: signManifest(manifest, signingKey) } : manifest,
      filesDir: path.join(this.entryDir(key), "files"),
    };
  }

  /**
   * Restores an entry into the install tree, every file's sha256 checked while it is copied, but
   * for the files this process fetched and checked whose stamps still hold.
   */
  restore(key: string, installRoot: string, options: Omit<RestoreOptions, "verified"> = {}): Promise<RestoreResult> {
    return restoreEntry(this.layout, key, installRoot, { ...options, verified: this.verifiedHere.get(key) });
  }

  evict(key: string): Promise<void> {
    this.verifiedHere.delete(key);
    return evictEntry(this.layout, key);
  }

  /** Re-checks one entry, every file's hash included; returns the problem, or undefined when it is sound. */
  check(key: string, options: { component?: CacheComponent; signal?: AbortSignal } = {}): Promise<string | undefined> {
    return checkEntry(this.layout, key, options);
  }

  /** Checks every entry, evicting the unsound ones and whatever under entries/ is no entry. */
  verify(signal?: AbortSignal): Promise<VerifyReport> {
    return verifyCache(this.layout, signal);
  }

  touch(key: string): Promise<void> {
    return touchEntry(this.layout, key);
  }

  /** Removes entries not used since `olderThanMs` ago, then least recently used ones until under `maxBytes`. */
  prune(options: { maxBytes?: number; olderThanMs?: number; now?: number }): Promise<PruneResult> {
    return prune(this.layout, options);
  }

  /** Half-written entries of writers that died, and evictions that were interrupted. */
  cleanTemp(): Promise<number> {
    return cleanTemp(this.layout);
  }

  clear(): Promise<number> {
    return clear(this.layout);
  }

  /** One line per run, for the hit ratio of `cache stats`. */
  recordRun(run: Omit<RunRecord, "time">): Promise<void> {
    return recordRun(this.layout, run);
  }

  recentRuns(limit = 20): Promise<RunRecord[]> {
    return recentRuns(this.layout, limit);
  }
}
