// Pushes an entry directory exactly as it is on disk (manifest.json and files/, made by hand with
// mknod, chmod u+s, ln -s ...) to a test registry, in the wire format triton-build reads, with
// tools of its own (GNU tar, gzip, the registry's HTTP API), not with triton-build's code: what
// an attacker with push access can store.
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { execa } from "execa";

export interface CraftTarget {
  /** host:port of a plain-HTTP test registry with Basic auth. */
  address: string;
  user: string;
  password: string;
}

export interface CraftOptions {
  /** "2" (default): the OCI image of entry format 2; "1": the one-layer image `docker import` made for format 1. */
  format?: "1" | "2";
  /** Members in this order (tar arguments, relative to the dir); default manifest.json, then files. */
  members?: string[];
  /** Extra GNU tar arguments, e.g. ["--transform", "s,^files/x,files/../../x,", "-P"]. */
  tarArgs?: string[];
  /** A tar archive to use instead of taring `dir`. */
  tar?: Buffer;
}

const sha256 = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

export async function pushCraftedEntry(target: CraftTarget, repository: string, tag: string, dir: string, options: CraftOptions = {}): Promise<void> {
  const tar =
    options.tar ??
    Buffer.from(
      // -p: keep every mode bit (setuid included); device nodes, FIFOs and links go in as they are.
      (
        await execa(
          "tar",
          ["-c", "-p", "--owner=0", "--group=0", "--numeric-owner", ...(options.tarArgs ?? []), "-C", dir, ...(options.members ?? ["manifest.json", "files"])],
          {
            encoding: "buffer",
          },
        )
      ).stdout,
    );
  const layer = gzipSync(tar);
  // Format 1 as `docker import` pushed it (a Docker v2 manifest, the labels in the config, no
  // annotations), but sent straight to the registry: the daemon would rewrite a hostile archive.
  const legacy = options.format === "1";
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: legacy ? { Labels: { "org.triton-build.key": "crafted" } } : {},
      rootfs: { type: "layers", diff_ids: [sha256(tar)] },
    }),
  );
  const auth = `Basic ${Buffer.from(`${target.user}:${target.password}`).toString("base64")}`;
  const base = `http://${target.address}`;
  for (const blob of [layer, config]) {
    const opened = await fetch(`${base}/v2/${repository}/blobs/uploads/`, { method: "POST", headers: { authorization: auth } });
    if (opened.status !== 202) throw new Error(`upload refused: ${opened.status}`);
    const location = new URL(opened.headers.get("location") ?? "", base);
    location.searchParams.set("digest", sha256(blob));
    const put = await fetch(location, { method: "PUT", headers: { authorization: auth, "content-type": "application/octet-stream" }, body: blob });
    if (put.status !== 201) throw new Error(`blob refused: ${put.status} ${await put.text()}`);
  }
  const manifestType = legacy ? "application/vnd.docker.distribution.manifest.v2+json" : "application/vnd.oci.image.manifest.v1+json";
  const manifest = {
    schemaVersion: 2,
    mediaType: manifestType,
    config: {
      mediaType: legacy ? "application/vnd.docker.container.image.v1+json" : "application/vnd.oci.image.config.v1+json",
      digest: sha256(config),
      size: config.length,
    },
    layers: [
      {
        mediaType: legacy ? "application/vnd.docker.image.rootfs.diff.tar.gzip" : "application/vnd.oci.image.layer.v1.tar+gzip",
        digest: sha256(layer),
        size: layer.length,
      },
    ],
    ...(legacy ? {} : { annotations: { "org.triton-build.format": "2" } }),
  };
  const put = await fetch(`${base}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    headers: { authorization: auth, "content-type": manifestType },
    body: JSON.stringify(manifest),
  });
  if (put.status !== 201) throw new Error(`manifest refused: ${put.status} ${await put.text()}`);
}
