import { createHash, randomBytes } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, removeTempDir } from "../../test/helpers/cli.js";
import { startRegistryProxy, type RegistryProxy } from "../../test/helpers/registry-proxy.js";
import { startTestRegistry, startTlsTestRegistry, type TestRegistry, writeDockerConfig } from "../../test/helpers/registry.js";
import { RegistryClient, type RegistryClientOptions } from "./client.js";
import { RegistryError } from "./errors.js";

// Against real registries (Debian's docker-registry, distribution 2.8) on loopback: Basic auth,
// Bearer tokens, TLS with a test CA, and a proxy that redirects, stalls or corrupts blobs.

const LOOPBACK_INSECURE = { names: [], cidrs: ["127.0.0.0/8"] };
const NOTHING_INSECURE = { names: [], cidrs: [] };
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";

let temp: string;
let basic: TestRegistry;

beforeAll(async () => {
  temp = await makeTempDir("tb-oci-client-");
  basic = await startTestRegistry(path.join(temp, "basic"));
});
afterAll(async () => {
  await basic?.close();
  await removeTempDir(temp);
});

function client(reference: string, env: Record<string, string>, options: RegistryClientOptions = {}): RegistryClient {
  return new RegistryClient(reference, {
    env: { ...env, TRITON_BUILD_REGISTRY_CERTS_DIR: path.join(temp, "no-certs") },
    insecure: LOOPBACK_INSECURE,
    ...options,
  });
}

async function* chunks(data: Buffer, size = 65_536): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of source) parts.push(chunk);
  return Buffer.concat(parts);
}

const sha256 = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** Pushes a blob and an image manifest naming it under `tag`; returns the blob and its descriptor. */
async function pushImage(registry: RegistryClient, tag: string, size = 3 * 2 ** 20) {
  // (Buffers are compared by digest: deep equality of megabytes is very slow in expect.)
  const data = randomBytes(size);
  const layer = await registry.pushBlob(chunks(data));
  const config = await registry.pushBytes(Buffer.from("{}"));
  const manifest = {
    schemaVersion: 2,
    mediaType: MANIFEST,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
  };
  await registry.putManifest(tag, MANIFEST, Buffer.from(JSON.stringify(manifest)));
  return { data, layer };
}

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RegistryError);
  return error as RegistryError;
}

describe("RegistryClient with Basic auth (htpasswd)", () => {
  it("streams a blob up and down, checked against its digest, and reads back the manifest and tags", async () => {
    const registry = client(`${basic.address}/oci-basic`, basic.env);
    try {
      const { data, layer } = await pushImage(registry, "one");
      expect(layer).toEqual({ digest: sha256(data), size: data.length });
      expect(sha256(await collect(registry.blob(layer)))).toBe(sha256(data));
      const manifest = await registry.manifest("one", [MANIFEST]);
      expect(manifest?.mediaType).toBe(MANIFEST);
      expect(JSON.parse(manifest!.bytes.toString()).layers[0].digest).toBe(layer.digest);
      expect(await registry.manifestDigest("one", [MANIFEST])).toBe(manifest?.digest);
      expect(await registry.manifestDigest("absent", [MANIFEST])).toBeUndefined();
      expect(await registry.manifest("absent", [MANIFEST])).toBeUndefined();
      expect(await registry.tags()).toEqual(["one"]);
      expect(await basic.tags("oci-basic")).toEqual(["one"]);
    } finally {
      registry.close();
    }
  });

  it("a repository that does not exist has no tags", async () => {
    const registry = client(`${basic.address}/never-pushed`, basic.env);
    expect(await registry.tags()).toEqual([]);
    registry.close();
  });

  it("wrong or missing credentials are 'denied', naming docker login", async () => {
    const wrong = client(`${basic.address}/oci-basic`, await writeDockerConfig(path.join(temp, "wrong"), basic.address, "ci", "nope"));
    const error = await failure(wrong.manifest("one", [MANIFEST]));
    expect(error.failure).toBe("denied");
    expect(error.message).toContain(`docker login ${basic.address}`);
    const none = client(`${basic.address}/oci-basic`, { DOCKER_CONFIG: path.join(temp, "empty-config") });
    const anonymous = await failure(none.pushBytes(Buffer.from("x")));
    expect(anonymous.failure).toBe("denied");
    expect(anonymous.message).toContain("no credentials");
    wrong.close();
    none.close();
  });

  it("speaks plain HTTP only to a registry the daemon treats as insecure", async () => {
    const strict = client(`${basic.address}/oci-basic`, basic.env, { insecure: NOTHING_INSECURE });
    const error = await failure(strict.tags());
    expect(error.failure).toBe("unreachable");
    expect(error.message).toContain(`cannot reach ${basic.address}`);
    strict.close();
    const named = client(`${basic.address}/oci-basic`, basic.env, { insecure: { names: [basic.address], cidrs: [] } });
    expect(await named.tags()).toEqual(["one"]);
    named.close();
  });

  it("a registry that is not running is 'unreachable'", async () => {
    const down = client("127.0.0.1:9/oci", basic.env);
    expect((await failure(down.tags())).failure).toBe("unreachable");
    down.close();
  });
});

describe("RegistryClient through a misbehaving proxy", () => {
  let proxy: RegistryProxy;
  let pushed: Awaited<ReturnType<typeof pushImage>>;

  beforeAll(async () => {
    proxy = await startRegistryProxy(basic.address, basic);
    await writeDockerConfig(path.join(temp, "proxy-config"), proxy.address, basic.user, basic.password);
    const direct = client(`${basic.address}/oci-proxy`, basic.env);
    pushed = await pushImage(direct, "blob", 8 * 2 ** 20);
    direct.close();
  });
  afterAll(() => proxy?.close());

  const viaProxy = (options: RegistryClientOptions = {}) => client(`${proxy.address}/oci-proxy`, { DOCKER_CONFIG: path.join(temp, "proxy-config") }, options);

  it("follows a redirect to blob storage on another origin without the registry's Authorization", async () => {
    proxy.blobs = { mode: "redirect" };
    const registry = viaProxy();
    try {
      expect(sha256(await collect(registry.blob(pushed.layer)))).toBe(sha256(pushed.data));
    } finally {
      registry.close();
      proxy.blobs = { mode: "pass" };
    }
    const blobRequest = proxy.requests.find((r) => r.method === "GET" && r.path.endsWith(pushed.layer.digest));
    expect(blobRequest?.authorization).toBe(true);
    expect(proxy.storageRequests).toHaveLength(1);
    expect(proxy.storageRequests[0]?.authorization).toBe(false);
  });

  it("abandons a blob download that stops mid-blob after the stall limit, as 'stalled'", async () => {
    proxy.blobs = { mode: "stall", afterBytes: 2 ** 20 };
    const registry = viaProxy({ stallTimeoutMs: 700 });
    const started = performance.now();
    let received = 0;
    try {
      const error = await failure(
        (async () => {
          for await (const chunk of registry.blob(pushed.layer)) received += chunk.length;
        })(),
      );
      expect(error.failure).toBe("stalled");
      expect(error.message).toContain("no progress for 0.7 s");
    } finally {
      registry.close();
      proxy.blobs = { mode: "pass" };
    }
    expect(received).toBeLessThan(pushed.data.length);
    expect(performance.now() - started).toBeGreaterThanOrEqual(700);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("abandons an upload the registry stops reading, as 'stalled'", async () => {
    proxy.uploads = "stall";
    const registry = viaProxy({ stallTimeoutMs: 700 });
    try {
      const error = await failure(registry.pushBlob(chunks(randomBytes(64 * 2 ** 20))));
      expect(error.failure).toBe("stalled");
    } finally {
      registry.close();
      proxy.uploads = "pass";
    }
  });

  it("refuses a blob whose bytes do not match its digest before handing on its last chunk", async () => {
    proxy.blobs = { mode: "corrupt" };
    const registry = viaProxy();
    let received = 0;
    try {
      const error = await failure(
        (async () => {
          for await (const chunk of registry.blob(pushed.layer)) received += chunk.length;
        })(),
      );
      expect(error.failure).toBe("invalid");
      expect(error.message).toContain(`blob ${pushed.layer.digest} arrived as ${pushed.data.length} bytes with digest sha256:`);
    } finally {
      registry.close();
      proxy.blobs = { mode: "pass" };
    }
    expect(received).toBeLessThan(pushed.data.length);
  });
});

describe("RegistryClient with Bearer tokens", () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry(path.join(temp, "token"), { auth: "token" });
  });
  afterAll(() => registry?.close());

  it("asks the token service for pull or pull,push scope with the stored credentials", async () => {
    const writer = client(`${registry.address}/team/cache`, registry.env);
    const { data, layer } = await pushImage(writer, "t1");
    writer.close();
    expect(registry.tokens?.requests).toContainEqual({ user: "ci", scope: ["repository:team/cache:pull,push"] });
    const reader = client(`${registry.address}/team/cache`, await registry.dockerConfig(path.join(temp, "reader"), "reader", "reader-secret"));
    expect(sha256(await collect(reader.blob(layer)))).toBe(sha256(data));
    expect(await reader.tags()).toEqual(["t1"]);
    expect(registry.tokens?.requests).toContainEqual({ user: "reader", scope: ["repository:team/cache:pull"] });
    // A pull-only token: the registry refuses the push.
    const refused = await failure(reader.pushBytes(Buffer.from("not allowed")));
    expect(refused.failure).toBe("denied");
    reader.close();
  });

  it("credentials the token service refuses are 'denied'", async () => {
    const wrong = client(`${registry.address}/team/cache`, await registry.dockerConfig(path.join(temp, "token-wrong"), "ci", "wrong"));
    const error = await failure(wrong.tags());
    expect(error.failure).toBe("denied");
    expect(error.message).toContain("token service refused the stored credentials");
    wrong.close();
  });
});

describe("RegistryClient over TLS", () => {
  let registry: TestRegistry;
  let certs: string;
  beforeAll(async () => {
    ({ registry, certs } = await startTlsTestRegistry(path.join(temp, "tls")));
  });
  afterAll(() => registry?.close());

  it("trusts the CA in <certs dir>/<host:port>/ca.crt", async () => {
    const tls = new RegistryClient(`${registry.address}/secure`, {
      env: { ...registry.env, TRITON_BUILD_REGISTRY_CERTS_DIR: certs },
      insecure: NOTHING_INSECURE,
    });
    const { data, layer } = await pushImage(tls, "v1");
    expect(sha256(await collect(tls.blob(layer)))).toBe(sha256(data));
    tls.close();
  });

  it("without the CA, refuses the certificate and says where the CA goes", async () => {
    const untrusting = new RegistryClient(`${registry.address}/secure`, {
      env: { ...registry.env, TRITON_BUILD_REGISTRY_CERTS_DIR: path.join(temp, "empty-certs") },
      // Even for a registry the daemon would speak plain HTTP to, a certificate is checked.
      insecure: LOOPBACK_INSECURE,
    });
    const error = await failure(untrusting.tags());
    expect(error.failure).toBe("unreachable");
    expect(error.message).toContain(`${path.join(temp, "empty-certs")}/${registry.address}/ca.crt`);
    untrusting.close();
  });
});
