// Puts a cache entry crafted by hand into a test registry, in the wire format the remote cache
// reads. The crafting (mknod, chmod u+s, links, a lying manifest) is the test's own: this only
// carries the bytes of `dir` (manifest.json and files/) exactly as they are, so one place changes
// when the transport does.
import { execa } from "execa";
import type { TestRegistry } from "./registry.js";

/**
 * `<registry>/<repository>:<tag>` becomes the entry in `dir`: today a one-layer image of
 * manifest.json and files/ at its root, as `docker import` makes it, pushed with the registry's
 * credentials. Nothing is left on the local daemon.
 */
export async function pushCraftedEntry(registry: TestRegistry, repository: string, tag: string, dir: string): Promise<void> {
  const ref = `${registry.address}/${repository}:${tag}`;
  const env = { ...process.env, ...registry.env };
  // -p: keep every mode bit (setuid included); device nodes, FIFOs and links go in as they are.
  await execa("sh", ["-c", 'tar -c -p --owner=0 --group=0 --numeric-owner -C "$1" manifest.json files | docker import - "$2"', "sh", dir, ref], { env });
  try {
    await execa("docker", ["push", ref], { env });
  } finally {
    await execa("docker", ["rmi", ref], { env, reject: false });
  }
}
