import type { CmakeSection } from "../buildpy/cmake-build.js";
import { dockerEngine, type DockerEngine } from "../docker/engine.js";
import { parseRepository, splitImageReference } from "../docker/registry.js";
import { manifestDigest } from "../registry/lookup.js";
import { firstErrorLine } from "../errors.js";
import { lsRemote } from "../source/git.js";
import { limiter } from "../util/limited.js";
import { CACHE_FORMAT, normalizeSection, sectionOrganization, sectionSources, sha256, type KeyInputs, type SourceInput } from "./key.js";

/**
 * The I/O behind cache keys: refs to commits (`git ls-remote` against the organisation build.py
 * clones from, so mirrors work), the base image to its id, the daemon's platform. Anything that
 * cannot be resolved is recorded as such, which makes the component a miss, never a wrong hit.
 */

export interface KeyContext {
  server: { url: string; ref: string; commit: string };
  buildbaseDockerfile: string;
  baseImage: { ref: string; id: string | null; error?: string };
  platform: { os: string; arch: string };
  resolveRef: (url: string, ref: string) => Promise<SourceInput>;
  /**
   * Repositories that `git ls-remote` could not read at all (unreachable host, no such
   * repository), URL -> git's message: said once, up front, instead of in every component's reason.
   */
  unreachable?: ReadonlyMap<string, string>;
}

/** The short reason a source that could not be read gives in its component's cache miss. */
export const UNREACHABLE = "repository unreachable";

export interface KeyContextInput {
  server: { url: string; ref: string; commit: string };
  buildbaseDockerfile: string;
  /**
   * Images built from recipes have content-addressed tags: the tag is their identity, when the
   * recipe's ref resolved to a commit. A recipe whose ref did not resolve has no identity.
   */
  recipes: ReadonlyArray<{ tag: string; commit?: string }>;
  offline: boolean;
  /** With --pull the build uses whatever the tag points to now: key by the registry's digest. */
  pull: boolean;
  signal?: AbortSignal;
  /** The engine the components compile on (its platform, its base image); default: the docker CLI's. */
  engine?: Pick<DockerEngine, "info" | "inspectImage">;
}

export async function createKeyContext(input: KeyContextInput): Promise<KeyContext> {
  const unreachable = new Map<string, string>();
  const baseRef = /^ARG BASE_IMAGE=(\S+)/m.exec(input.buildbaseDockerfile)?.[1] ?? "unknown";
  const [baseImage, platform] = await Promise.all([
    resolveImageIdentity(baseRef, input, input.signal),
    // "unknown" makes every key unresolved (see unresolvedReason): never a hit across platforms.
    (input.engine ?? dockerEngine()).info(input.signal ? { signal: input.signal } : {}).then(
      (info) => ({ os: info.os, arch: info.arch }),
      () => ({ os: "unknown", arch: "unknown" }),
    ),
  ]);
  return {
    server: input.server,
    buildbaseDockerfile: input.buildbaseDockerfile,
    baseImage,
    platform,
    resolveRef: memoizedResolver(input.offline, unreachable, input.signal),
    unreachable,
  };
}

/**
 * One identity whether or not the image was pulled: its registry digest (RepoDigests locally, the
 * tag's manifest digest remotely); an image that exists only here is identified by its id.
 */
async function resolveImageIdentity(ref: string, input: KeyContextInput, signal?: AbortSignal): Promise<KeyContext["baseImage"]> {
  const { recipes, offline, pull } = input;
  const recipe = recipes.find((r) => r.tag === ref);
  if (recipe) return recipe.commit ? { ref, id: ref } : { ref, id: null, error: "its recipe's ref could not be resolved to a commit" };
  const options = signal ? { signal } : {};
  const { repository, tag } = splitImageReference(ref);
  try {
    if (tag.startsWith("sha256:")) return { ref, id: tag };
    // With --pull the build uses what the tag names now; otherwise what this daemon has.
    let remote: string | undefined;
    if (pull && !offline) {
      remote = await manifestDigest(repository, tag, signal).catch(() => undefined);
      if (remote) return { ref, id: remote };
    }
    const local = await (input.engine ?? dockerEngine()).inspectImage(ref, options);
    const wanted = parseRepository(repository);
    const pulled = local?.repoDigests.find((d) => {
      const name = parseRepository(d.slice(0, d.indexOf("@")));
      return name.registry === wanted.registry && name.repository === wanted.repository;
    });
    if (pulled) return { ref, id: pulled.slice(pulled.indexOf("@") + 1) };
    if (local) return { ref, id: local.id };
    if (offline || pull)
      return { ref, id: null, error: offline ? "not present locally, and --offline" : "not present locally and its registry did not answer" };
    remote = await manifestDigest(repository, tag, signal);
    return remote ? { ref, id: remote } : { ref, id: null, error: "its registry has no such tag" };
  } catch (error) {
    return { ref, id: null, error: firstErrorLine(error) };
  }
}

function memoizedResolver(offline: boolean, unreachable: Map<string, string>, signal?: AbortSignal): KeyContext["resolveRef"] {
  const cache = new Map<string, Promise<SourceInput>>();
  const limit = limiter(8);
  return (url, ref) => {
    const id = `${url}\n${ref}`;
    let pending = cache.get(id);
    if (!pending) {
      pending = offline
        ? Promise.resolve({ url, ref, commit: null, error: "--offline: tags are not resolved" })
        : limit(async () => {
            try {
              const commit = await lsRemote(url, ref, { signal, blockTimeoutMs: 60_000 });
              return commit ? { url, ref, commit } : { url, ref, commit: null, error: "no such branch or tag" };
            } catch (error) {
              if (signal?.aborted) throw error;
              unreachable.set(url, firstErrorLine(error));
              return { url, ref, commit: null, error: UNREACHABLE };
            }
          });
      cache.set(id, pending);
    }
    return pending;
  };
}

/** Key inputs of one section, as it will run (`sectionLines`), with the settings that reached it. */
export async function componentKeyInputs(
  section: CmakeSection,
  context: KeyContext,
  sectionLines: readonly string[] = section.lines,
  settings: Record<string, string> = {},
): Promise<KeyInputs> {
  const organization = sectionOrganization(section);
  const wanted = sectionSources(section, context.server.url, context.server.ref);
  const sources: Record<string, SourceInput> = {};
  for (const [role, { url, ref, problem }] of Object.entries(wanted)) {
    if (problem) sources[role] = { url, ref, commit: null, error: problem };
    else sources[role] = role === "server" ? { url, ref, commit: context.server.commit } : await context.resolveRef(url, ref);
  }
  return {
    format: CACHE_FORMAT,
    component: { kind: section.kind, name: section.name },
    section: sha256(normalizeSection(sectionLines, organization)),
    sources,
    buildbase: {
      dockerfile: sha256(context.buildbaseDockerfile),
      baseImage: context.baseImage.ref,
      baseImageId: context.baseImage.id,
      ...(context.baseImage.error ? { error: context.baseImage.error } : {}),
    },
    platform: context.platform,
    settings,
  };
}
