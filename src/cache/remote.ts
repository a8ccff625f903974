import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Emit } from "../run/events.js";
import { DockerCommandError } from "../docker/cli.js";
import { createContainer, removeContainer } from "../docker/container.js";
import { copyOutOfContainer } from "../docker/copy-out.js";
import { importFiles, pullImage, pushImage, removeImage } from "../docker/image.js";
import { tagExists } from "../registry/lookup.js";
import { CacheIntegrityError } from "../errors.js";
import { signatureProblem, signManifest } from "./signing.js";
import type { LocalCache } from "./store.js";

/**
 * The shared cache in an OCI registry the fleet already runs: an entry is a one-layer image
 * `<repo>:<component>-<key>` (manifest.json and files/ at its root, metadata in labels), pushed
 * and pulled with the docker CLI and the machine's `docker login` credentials.
 *
 * It never fails a build: the first time the registry is down, refuses access or times out,
 * one warning is printed and the rest of the run goes on without that side of it (a second
 * problem on the other side is an info line, not another warning).
 */

export type RemoteMode = "read" | "readwrite";

const PULL_PUSH_TIMEOUT_MS = 30 * 60_000;

/** Registry answers that mean "no such entry" rather than "cannot use the registry". */
const MISSING = /manifest unknown|not found|does not exist|name unknown|repository name not known/i;
/** Answers that mean the registry is down or unreachable: neither reading nor writing can work. */
const UNREACHABLE = /connection refused|no such host|timeout|timed out|i\/o timeout|network is unreachable|EOF|server misbehaving|cannot reach/i;

export class RemoteCache {
  private cannotRead: string | undefined;
  private cannotWrite: string | undefined;
  private warned = false;

  constructor(
    readonly repository: string,
    readonly mode: RemoteMode,
    private readonly secret: string | undefined,
    private readonly emit: Emit,
    private readonly runId: string,
  ) {}

  reference(name: string, key: string): string {
    return `${this.repository}:${name}-${key}`;
  }

  /**
   * One warning per run, then the run goes on without that side of the registry: a registry
   * that is down loses both; refused reads (some registries say "denied" for a repository that
   * does not exist yet) still leave pushes to try, so a new shared cache can be seeded. If pushes
   * then fail too, that is said as information: the user already has the warning.
   */
  private giveUp(side: "read" | "write", error: unknown): void {
    const reason =
      String((error as Error)?.message ?? error)
        .trim()
        .split("\n")
        .pop() || "unknown error";
    const both = UNREACHABLE.test(reason);
    const newRead = (side === "read" || both) && this.cannotRead === undefined;
    const newWrite = (side === "write" || both) && this.cannotWrite === undefined;
    if (newRead) this.cannotRead = reason;
    if (newWrite) this.cannotWrite = reason;
    if (!newRead && !newWrite) return;
    const what = newRead && newWrite ? "is unavailable" : newRead ? "cannot be read" : "cannot be written";
    const message = `remote cache ${this.repository} ${what} (${reason}); continuing without it`;
    this.emit(this.warned ? { type: "info", message } : { type: "warning", message });
    this.warned = true;
  }

  /** Brings an entry from the registry into the local cache; false when the registry has none (or is unusable). */
  async fetch(name: string, key: string, local: LocalCache, signal?: AbortSignal): Promise<boolean> {
    if (this.cannotRead !== undefined) return false;
    const ref = this.reference(name, key);
    try {
      await pullImage(ref, { ...(signal ? { signal } : {}), timeoutMs: PULL_PUSH_TIMEOUT_MS });
    } catch (error) {
      if (signal?.aborted) throw error;
      const text = error instanceof DockerCommandError ? error.tail.join("\n") : String(error);
      if (MISSING.test(text) && !/unauthorized|authentication required/i.test(text)) return false;
      this.giveUp("read", new Error(text));
      return false;
    }
    const container = `triton-build-cache-${this.runId}-${name}`;
    const tmp = await local.newTempDir(key);
    try {
      // Not cancelled: a create the daemon finishes after Ctrl-C would outlive the clean-up below.
      await createContainer({ name: container, image: ref, tty: false, command: ["entry"] });
      signal?.throwIfAborted();
      await copyOutOfContainer(container, "/manifest.json", tmp, signal ? { signal } : {});
      await copyOutOfContainer(container, "/files", tmp, signal ? { signal } : {});
      await local.adopt(tmp, key, (manifest) => (this.secret ? signatureProblem(manifest, this.secret) : undefined), signal);
      return true;
    } catch (error) {
      if (signal?.aborted) throw error;
      const problem = error instanceof CacheIntegrityError ? error.message : String((error as Error)?.message ?? error);
      this.emit({ type: "warning", component: name, message: `remote cache entry ${ref} was not used: ${problem}` });
      return false;
    } finally {
      await rm(tmp, { recursive: true, force: true });
      await removeContainer(container).catch(() => undefined);
      await removeImage(ref).catch(() => undefined);
    }
  }

  /** Pushes a local entry, unless this is a read-only run or the registry already has that tag. */
  async push(name: string, key: string, local: LocalCache, signal?: AbortSignal): Promise<"pushed" | "exists" | "skipped"> {
    if (this.mode !== "readwrite" || this.cannotWrite !== undefined) return "skipped";
    const manifest = await local.get(key);
    if (!manifest) return "skipped";
    const ref = this.reference(name, key);
    const scratch = await mkdtemp(path.join(os.tmpdir(), "triton-build-push-"));
    try {
      if (await tagExists(this.repository, `${name}-${key}`, signal)) return "exists";
      const signed = this.secret ? { ...manifest, signature: signManifest(manifest, this.secret) } : manifest;
      await writeFile(path.join(scratch, "manifest.json"), `${JSON.stringify(signed, null, 1)}\n`);
      await importFiles(
        [
          { dir: scratch, paths: ["manifest.json"] },
          { dir: local.entryDir(key), paths: ["files"] },
        ],
        ref,
        {
          ...(signal ? { signal } : {}),
          labels: {
            "org.triton-build.key": key,
            "org.triton-build.component": name,
            "org.triton-build.kind": manifest.component.kind,
            "org.triton-build.bytes": String(manifest.totalBytes),
            "org.triton-build.signed": this.secret ? "hmac-sha256" : "no",
          },
        },
      );
      await pushImage(ref, { ...(signal ? { signal } : {}), timeoutMs: PULL_PUSH_TIMEOUT_MS });
      return "pushed";
    } catch (error) {
      if (signal?.aborted) throw error;
      this.giveUp("write", error);
      return "skipped";
    } finally {
      await rm(scratch, { recursive: true, force: true });
      await removeImage(ref).catch(() => undefined);
    }
  }
}

/** `<component>-<key>` tags of a remote cache, as listed by the registry. */
export function parseEntryTag(tag: string): { name: string; key: string } | undefined {
  const match = /^(.+)-([0-9a-f]{64})$/.exec(tag);
  return match?.[1] && match[2] ? { name: match[1], key: match[2] } : undefined;
}
