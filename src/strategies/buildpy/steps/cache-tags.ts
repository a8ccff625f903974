import type { DockerEngine } from "../../../docker/engine.js";
import { BUILDBASE_CACHE_KEEP, BUILDBASE_CACHE_PREFIX } from "../../../run/names.js";

/**
 * Docker's layer cache for the next runs lives in `triton-build/<image>:cache-<hash>` tags (the
 * buildbase, and the images backends build themselves, such as ONNX Runtime's). Each repository
 * keeps its newest BUILDBASE_CACHE_KEEP on an engine; older ones are untagged, so their layers go
 * with `docker image prune` and the tags cannot pile up run after run. `current`, tags this run
 * made or used, are always kept (an image's age says nothing of when a run last used it).
 */
export async function keepNewestCacheTags(engine: DockerEngine, repository: string, current: readonly string[] = []): Promise<void> {
  const others = (await engine.listRepositoryTags(repository))
    .filter((t) => t.tag.startsWith(BUILDBASE_CACHE_PREFIX) && !current.includes(`${repository}:${t.tag}`))
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const room = Math.max(0, BUILDBASE_CACHE_KEEP - current.length);
  for (const old of others.slice(room)) await engine.untagImage(`${repository}:${old.tag}`);
}
