import type { VerifiedFiles } from "./file-stamp.js";
import type { Manifest } from "./manifest.js";
import type { CacheComponent } from "./validate.js";

/**
 * The shared cache, as the run sees it: an interface, so the transport (the distribution API,
 * remote-oci.ts) can change without the run noticing, and tests can hand the run a fake.
 * Every call returns an outcome as data; nothing here emits events or fails a build: the run
 * decides what to tell the user. An entry that arrives is never trusted by the transport: it
 * writes the bytes into the EntrySink the local cache gives it, and the local cache's adopt
 * checks them (validate.ts), whichever way they came.
 */

export type RemoteMode = "read" | "readwrite";

/** This run stopped using a side of the registry (both: it is down). Only the first problem per side says so. */
export interface RemoteUnavailable {
  status: "unavailable";
  reason: string;
  /** Which sides this problem newly turned off. */
  lost: "read" | "write" | "both";
}

/** Not tried: a read-only run, or a side given up earlier in this run. */
export interface RemoteSkipped {
  status: "skipped";
  reason: string;
}

export type HasOutcome = { status: "present" } | { status: "absent" } | RemoteUnavailable | RemoteSkipped;

export type FetchOutcome =
  /** Adopted into the local cache, every check passed. */
  | { status: "hit"; manifest: Manifest }
  /** The registry has no entry under that tag. */
  | { status: "miss" }
  /** It arrived and was refused (integrity, signature, layout): a rebuilt entry should replace it. */
  | { status: "rejected"; reason: string }
  /** It could not be brought in, for a reason that is not the entry's (a local disk, a docker failure). */
  | { status: "failed"; reason: string }
  | RemoteUnavailable
  | RemoteSkipped;

export type PushOutcome =
  | { status: "pushed" }
  /** Pushed over a tag whose entry this run had rejected. */
  | { status: "replaced" }
  /** The registry already has that tag; nothing was sent. */
  | { status: "exists" }
  | RemoteUnavailable
  | RemoteSkipped;

/** Where a fetched entry goes: the transport fills `tempDir()` with manifest.json and files/, then calls adopt. */
export interface EntrySink {
  tempDir(): Promise<string>;
  /**
   * What is wrong with an entry's manifest (key, signature, layout), for a transport that has it
   * before the files: it can refuse the entry before writing any of them. adopt checks it again.
   */
  precheck(manifest: Manifest): string | undefined;
  /**
   * Checks the entry and moves it into the local cache, or throws CacheIntegrityError; removes the
   * dir either way. `verified`: the files whose sha256 the transport checked as it wrote them,
   * with their stamps then; a file whose stamp still holds is not read again (here, nor by this
   * run's restore of the entry).
   */
  adopt(dir: string, signal?: AbortSignal, options?: { verified?: VerifiedFiles }): Promise<Manifest>;
}

/** What a push sends: the manifest (signed when a key is set) and the entry's files/ directory. */
export interface OutgoingEntry {
  manifest: Manifest;
  filesDir: string;
}

export interface RemoteCache {
  readonly repository: string;
  readonly mode: RemoteMode;
  /** How the user can name one entry, e.g. `registry/repo:<component>-<key>`. */
  reference(component: string, key: string): string;
  has(component: CacheComponent, key: string, signal?: AbortSignal): Promise<HasOutcome>;
  fetch(component: CacheComponent, key: string, into: EntrySink, signal?: AbortSignal): Promise<FetchOutcome>;
  /** `replace`: push even when the tag exists (its entry was rejected); otherwise an existing tag is left alone. */
  push(component: CacheComponent, key: string, entry: OutgoingEntry, options: { replace: boolean }, signal?: AbortSignal): Promise<PushOutcome>;
}

/**
 * The give-up policy every transport shares: after the first time the registry is down, refuses
 * access or times out, this run goes on without that side of it. A registry that is down loses
 * both; refused reads (some registries say "denied" for a repository that does not exist yet)
 * still leave pushes to try, so a new shared cache can be seeded.
 */
export class RemoteSides {
  private cannotRead: string | undefined;
  private cannotWrite: string | undefined;

  constructor(readonly mode: RemoteMode) {}

  /** A skipped outcome when reads are off for this run, else undefined. */
  readSkipped(): RemoteSkipped | undefined {
    return this.cannotRead === undefined ? undefined : { status: "skipped", reason: `the remote cache cannot be read (${this.cannotRead})` };
  }

  /** A skipped outcome when this run may not or cannot push, else undefined. */
  writeSkipped(): RemoteSkipped | undefined {
    if (this.mode !== "readwrite") return { status: "skipped", reason: "read-only remote cache" };
    return this.cannotWrite === undefined ? undefined : { status: "skipped", reason: `the remote cache cannot be written (${this.cannotWrite})` };
  }

  /** Turns off `side` (or both, when `unreachable`): unavailable the first time a side is lost, skipped after. */
  giveUp(side: "read" | "write", reason: string, unreachable: boolean): RemoteUnavailable | RemoteSkipped {
    const newRead = (side === "read" || unreachable) && this.cannotRead === undefined;
    const newWrite = (side === "write" || unreachable) && this.cannotWrite === undefined;
    if (newRead) this.cannotRead = reason;
    if (newWrite) this.cannotWrite = reason;
    if (!newRead && !newWrite) return { status: "skipped", reason };
    return { status: "unavailable", reason, lost: newRead && newWrite ? "both" : newRead ? "read" : "write" };
  }
}
