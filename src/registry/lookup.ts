import { RegistryClient } from "./client.js";

/** One-off questions to a registry, each on a client of its own. */

const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
];

/** Every tag of a repository (following pagination); [] when the repository does not exist yet. */
export async function listTags(reference: string, signal?: AbortSignal): Promise<string[]> {
  const client = new RegistryClient(reference);
  try {
    return await client.tags(signal);
  } finally {
    client.close();
  }
}

/**
 * The digest a tag points to (`Docker-Content-Digest`, the index digest for multi-platform
 * images): the same value `docker pull` records in RepoDigests. undefined when there is no such tag.
 */
export async function manifestDigest(reference: string, tag: string, signal?: AbortSignal): Promise<string | undefined> {
  const client = new RegistryClient(reference);
  try {
    return await client.manifestDigest(tag, MANIFEST_TYPES, signal);
  } finally {
    client.close();
  }
}

/** Whether a tag exists in the registry, without pulling it. */
export async function tagExists(reference: string, tag: string, signal?: AbortSignal): Promise<boolean> {
  return (await manifestDigest(reference, tag, signal)) !== undefined;
}
