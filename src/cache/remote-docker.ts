import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DockerCommandError } from "../docker/cli.js";
import { createContainer, removeContainer } from "../docker/container.js";
import { copyOutOfContainer } from "../docker/copy-out.js";
import { importFiles, pullImage, pushImage, removeImage } from "../docker/image.js";
import { tagExists } from "../registry/lookup.js";
import { CacheIntegrityError, errorMessage } from "../errors.js";
import { entryTag } from "./entry-tag.js";
import {
  type EntrySink,
  type FetchOutcome,
  type HasOutcome,
  type OutgoingEntry,
  type PushOutcome,
  type RemoteCache,
  type RemoteMode,
  RemoteSides,
} from "./remote.js";
import type { CacheComponent } from "./validate.js";

/**
 * The shared cache over the docker CLI: an entry is a one-layer image `<repo>:<component>-<key>`
 * (manifest.json and files/ at its root, metadata in labels), pushed and pulled with the
 * machine's `docker login` credentials.
 */

const PULL_PUSH_TIMEOUT_MS = 30 * 60_000;

/** Registry answers that mean "no such entry" rather than "cannot use the registry". */
const MISSING = /manifest unknown|not found|does not exist|name unknown|repository name not known/i;
/** Answers that mean the registry is down or unreachable: neither reading nor writing can work. */
const UNREACHABLE = /connection refused|no such host|timeout|timed out|i\/o timeout|network is unreachable|EOF|server misbehaving|cannot reach/i;

function lastLine(text: string): string {
  return text.trim().split("\n").pop() || "unknown error";
}

export class DockerRemoteCache implements RemoteCache {
  private readonly sides: RemoteSides;

  constructor(
    readonly repository: string,
    readonly mode: RemoteMode,
    private readonly runId: string,
  ) {
    this.sides = new RemoteSides(mode);
  }

  reference(component: string, key: string): string {
    return `${this.repository}:${entryTag(component, key)}`;
  }

  async has(component: CacheComponent, key: string, signal?: AbortSignal): Promise<HasOutcome> {
    const skipped = this.sides.readSkipped();
    if (skipped) return skipped;
    try {
      return (await tagExists(this.repository, entryTag(component.name, key), signal)) ? { status: "present" } : { status: "absent" };
    } catch (error) {
      if (signal?.aborted) throw error;
      const reason = lastLine(errorMessage(error));
      return this.sides.giveUp("read", reason, UNREACHABLE.test(reason));
    }
  }

  async fetch(component: CacheComponent, key: string, into: EntrySink, signal?: AbortSignal): Promise<FetchOutcome> {
    const skipped = this.sides.readSkipped();
    if (skipped) return skipped;
    const ref = this.reference(component.name, key);
    try {
      await pullImage(ref, { signal, timeoutMs: PULL_PUSH_TIMEOUT_MS });
    } catch (error) {
      if (signal?.aborted) throw error;
      const text = error instanceof DockerCommandError ? error.tail.join("\n") : String(error);
      if (MISSING.test(text) && !/unauthorized|authentication required/i.test(text)) return { status: "miss" };
      const reason = lastLine(text);
      return this.sides.giveUp("read", reason, UNREACHABLE.test(reason));
    }
    const container = `triton-build-cache-${this.runId}-${component.name}`;
    const tmp = await into.tempDir();
    try {
      // Not cancelled: a create the daemon finishes after Ctrl-C would outlive the clean-up below.
      await createContainer({ name: container, image: ref, tty: false, command: ["entry"] });
      signal?.throwIfAborted();
      await copyOutOfContainer(container, "/manifest.json", tmp, { signal });
      await copyOutOfContainer(container, "/files", tmp, { signal });
      return { status: "hit", manifest: await into.adopt(tmp, signal) };
    } catch (error) {
      if (signal?.aborted) throw error;
      return error instanceof CacheIntegrityError ? { status: "rejected", reason: error.message } : { status: "failed", reason: errorMessage(error) };
    } finally {
      await rm(tmp, { recursive: true, force: true });
      await removeContainer(container).catch(() => undefined);
      await removeImage(ref).catch(() => undefined);
    }
  }

  async push(component: CacheComponent, key: string, entry: OutgoingEntry, options: { replace: boolean }, signal?: AbortSignal): Promise<PushOutcome> {
    const skipped = this.sides.writeSkipped();
    if (skipped) return skipped;
    const ref = this.reference(component.name, key);
    const scratch = await mkdtemp(path.join(os.tmpdir(), "triton-build-push-"));
    try {
      if (!options.replace && (await tagExists(this.repository, entryTag(component.name, key), signal))) return { status: "exists" };
      await writeFile(path.join(scratch, "manifest.json"), `${JSON.stringify(entry.manifest, null, 1)}\n`);
      await importFiles(
        [
          { dir: scratch, paths: ["manifest.json"] },
          { dir: path.dirname(entry.filesDir), paths: [path.basename(entry.filesDir)] },
        ],
        ref,
        {
          signal,
          labels: {
            "org.triton-build.key": key,
            "org.triton-build.component": component.name,
            "org.triton-build.kind": entry.manifest.component.kind,
            "org.triton-build.bytes": String(entry.manifest.totalBytes),
            "org.triton-build.signed": entry.manifest.signature ? "hmac-sha256" : "no",
          },
        },
      );
      await pushImage(ref, { signal, timeoutMs: PULL_PUSH_TIMEOUT_MS });
      return { status: options.replace ? "replaced" : "pushed" };
    } catch (error) {
      if (signal?.aborted) throw error;
      const reason = lastLine(errorMessage(error));
      return this.sides.giveUp("write", reason, UNREACHABLE.test(reason));
    } finally {
      await rm(scratch, { recursive: true, force: true });
      await removeImage(ref).catch(() => undefined);
    }
  }
}
