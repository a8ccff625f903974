import { rm } from "node:fs/promises";
import path from "node:path";
import type { InsecureRegistries } from "../docker/system.js";
import { CacheIntegrityError } from "../errors.js";
import { RegistryClient } from "../registry/client.js";
import { RegistryError } from "../registry/errors.js";
import { entryTag } from "./entry-tag.js";
import { MEDIA_TYPES } from "./oci/format.js";
import { fetchEntry, pushEntry } from "./oci/transfer.js";
import {
  type EntrySink,
  type FetchOutcome,
  type HasOutcome,
  type OutgoingEntry,
  type PushOutcome,
  type RemoteCache,
  type RemoteMode,
  RemoteSides,
  type RemoteSkipped,
  type RemoteUnavailable,
} from "./remote.js";
import type { CacheComponent } from "./validate.js";

/**
 * The shared cache over the OCI distribution API (src/registry): entries move between the local
 * cache and the registry directly, with no Docker daemon and no image storage at either end
 * (entry format: cache/oci/format.ts). A transfer with no progress for the stall limit is
 * abandoned like a registry that is down.
 */

export interface OciRemoteOptions {
  stallTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** What the daemon treats as insecure (plain HTTP allowed); asked of the daemon when not given. */
  insecure?: InsecureRegistries;
  /** Blobs moved at once for one entry. */
  concurrency?: number;
}

export class OciRemoteCache implements RemoteCache {
  private readonly sides: RemoteSides;
  private readonly client: RegistryClient;
  private readonly concurrency: number | undefined;

  constructor(
    readonly repository: string,
    readonly mode: RemoteMode,
    options: OciRemoteOptions = {},
  ) {
    this.sides = new RemoteSides(mode);
    this.client = new RegistryClient(repository, {
      ...(options.env ? { env: options.env } : {}),
      ...(options.insecure ? { insecure: options.insecure } : {}),
      stallTimeoutMs: options.stallTimeoutMs,
    });
    this.concurrency = options.concurrency;
  }

  reference(component: string, key: string): string {
    return `${this.repository}:${entryTag(component, key)}`;
  }

  async has(component: CacheComponent, key: string, signal?: AbortSignal): Promise<HasOutcome> {
    const skipped = this.sides.readSkipped();
    if (skipped) return skipped;
    try {
      const digest = await this.client.manifestDigest(entryTag(component.name, key), [MEDIA_TYPES.manifest, MEDIA_TYPES.dockerManifest], signal);
      return digest ? { status: "present" } : { status: "absent" };
    } catch (error) {
      return this.registryFailure("read", error, signal);
    }
  }

  async fetch(component: CacheComponent, key: string, into: EntrySink, signal?: AbortSignal): Promise<FetchOutcome> {
    const skipped = this.sides.readSkipped();
    if (skipped) return skipped;
    const tmp = await into.tempDir();
    try {
      const fetched = await fetchEntry(
        this.client,
        entryTag(component.name, key),
        tmp,
        (manifest) => {
          const problem = into.precheck(manifest);
          if (problem) throw new CacheIntegrityError(problem);
        },
        { signal, ...(this.concurrency ? { concurrency: this.concurrency } : {}) },
      );
      if (fetched.outcome === "missing") return { status: "miss" };
      // An entry of a later format is a miss for this version, not a bad entry to replace.
      if (fetched.outcome === "unusable") return fetched.reason.includes("entry format") ? { status: "miss" } : { status: "rejected", reason: fetched.reason };
      return { status: "hit", manifest: await into.adopt(tmp, signal, { verified: fetched.verified }) };
    } catch (error) {
      if (signal?.aborted) throw signal.reason ?? error;
      if (error instanceof CacheIntegrityError) return { status: "rejected", reason: error.message };
      if (error instanceof RegistryError && (error.failure === "invalid" || error.failure === "missing")) {
        // The tag is there but its blobs are not what it says: the entry is bad, not the registry.
        return { status: "rejected", reason: error.message };
      }
      if (error instanceof RegistryError) return this.registryFailure("read", error, signal);
      return { status: "failed", reason: messageOf(error) };
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  async push(component: CacheComponent, key: string, entry: OutgoingEntry, options: { replace: boolean }, signal?: AbortSignal): Promise<PushOutcome> {
    const skipped = this.sides.writeSkipped();
    if (skipped) return skipped;
    const tag = entryTag(component.name, key);
    try {
      if (!options.replace && (await this.client.manifestDigest(tag, [MEDIA_TYPES.manifest, MEDIA_TYPES.dockerManifest], signal))) return { status: "exists" };
      await pushEntry(this.client, tag, path.dirname(entry.filesDir), entry.manifest, {
        signal,
        ...(this.concurrency ? { concurrency: this.concurrency } : {}),
      });
      return { status: options.replace ? "replaced" : "pushed" };
    } catch (error) {
      // A local entry that no longer matches its manifest is the local cache's problem, not the registry's.
      if (error instanceof CacheIntegrityError && !signal?.aborted) throw error;
      return this.registryFailure("write", error, signal);
    }
  }

  /** A registry failure as an outcome: a registry that is down or stalls loses both sides, a refusal only this one. */
  private registryFailure(side: "read" | "write", error: unknown, signal?: AbortSignal): RemoteUnavailable | RemoteSkipped {
    if (signal?.aborted) throw signal.reason ?? error;
    if (!(error instanceof RegistryError)) throw error;
    const both = error.failure === "unreachable" || error.failure === "stalled";
    return this.sides.giveUp(side, error.message, both);
  }
}

function messageOf(error: unknown): string {
  return String((error as Error)?.message ?? error);
}
