// The adversarial suite of the shared cache (issue 12): an attacker with push access to the cache
// repository, or write access to a shared cache dir, crafts each bad entry by hand and puts it
// where a build will look. Each must be refused, the component rebuilt, and (readwrite mode)
// the registry's entry replaced by the rebuilt one; afterwards no such file exists in the cache,
// the work dir or the image. Against a real registry (Debian's docker-registry on loopback) and
// a real Docker engine, unsigned and with TRITON_BUILD_CACHE_KEY.
import { chmod, cp, mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEntryTag } from "../../src/cache/entry-tag.js";
import type { Manifest } from "../../src/cache/manifest.js";
import { signManifest } from "../../src/cache/signing.js";
import { makeTempDir, removeTempDir, runCli } from "../helpers/cli.js";
import { pushCraftedEntry } from "../helpers/crafted-entry.js";
import { specialNodes, specialNodesInImage } from "../helpers/special-nodes.js";
import { startTestRegistry, type TestRegistry } from "../helpers/registry.js";
import { createWorld, imageFiles, parseNdjson, treeDifferences, type World } from "../helpers/world.js";

interface Report {
  runId: string;
  workDir: string;
  components: Array<{ name: string; status: string; cacheSource?: string }>;
}

const SECRET = "fleet-secret";
const COMPONENTS = ["core", "python", "onnxruntime", "checksum"] as const;
type Component = (typeof COMPONENTS)[number];

let temp: string;
let world: World;
let registry: TestRegistry;
let preset: string;
/** A directory of "the host" no entry may read from or write to. */
let host: string;
let reference: Map<string, string>;

beforeAll(async () => {
  temp = await makeTempDir("tb-hostile-");
  world = await createWorld(path.join(temp, "world"), { fixtureJson: `{\n  "default": 20\n}\n` });
  preset = await world.preset("hostile", "features: [gpu, logging]\nendpoints: [http]\nbackends: [ensemble, python, onnxruntime]\nrepoAgents: [checksum]\n");
  registry = await startTestRegistry(path.join(temp, "registry"));
  host = path.join(temp, "host");
  await mkdir(host, { recursive: true });
  await writeFile(path.join(host, "secret"), "host secret\n");
});
afterAll(async () => {
  await registry?.stop();
  await world?.cleanup();
  await removeTempDir(temp);
});

async function build(name: string, options: { cacheDir: string; remote?: string; mode?: "read" | "readwrite"; signed: boolean }) {
  const tag = world.tag(name);
  const reportFile = path.join(temp, `${name}.json`);
  const remote = options.remote ? ["--remote-cache", options.remote, "--remote-cache-mode", options.mode ?? "read"] : [];
  const result = await runCli(
    [
      "--preset",
      preset,
      ...world.args(),
      "--cache-dir",
      options.cacheDir,
      ...remote,
      "--tag",
      tag,
      "--report",
      reportFile,
      "--json",
      "--verbose",
      "--keep-work-dir",
    ],
    { tempDir: temp, env: { ...registry.env, ...(options.signed ? { TRITON_BUILD_CACHE_KEY: SECRET } : {}) } },
  );
  expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
  const report = JSON.parse(await readFile(reportFile, "utf8")) as Report;
  const events = parseNdjson(result.stdout);
  const statuses = Object.fromEntries(report.components.map((c) => [c.name, `${c.status}${c.cacheSource ? `:${c.cacheSource}` : ""}`]));
  const warnings = events.filter((e) => e.type === "warning").map((e) => ({ component: e.component as string | undefined, message: String(e.message) }));
  // phase-output lines (such as "pushed ...") are in --json with --verbose
  const lines = events.filter((e) => e.type === "phase-output").map((e) => String(e.line));
  return { tag, report, statuses, warnings, lines };
}

/** The image's tree against the first build's: core rebuilt by another run differs only in its tarball's timestamps. */
function sameTree(files: Map<string, string>): string[] {
  return treeDifferences(files, reference).filter((d) => !/^third-party-src\/src\.tar\.gz: file 666 \S+ \| file 666 \S+$/.test(d));
}

/** A sound entry to start from: what machine A stored, per component. */
interface Sound {
  key: string;
  dir: string;
  manifest: Manifest;
}

async function soundEntries(cacheDir: string): Promise<Record<Component, Sound>> {
  const entries = {} as Record<Component, Sound>;
  const listed = JSON.parse((await runCli(["cache", "ls", "--cache-dir", cacheDir, "--json"], { tempDir: temp })).stdout) as Array<{
    key: string;
    component: { name: Component };
  }>;
  for (const entry of listed) {
    const dir = path.join(cacheDir, "components", "v1", "entries", entry.key.slice(0, 2), entry.key);
    entries[entry.component.name] = { key: entry.key, dir, manifest: JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8")) as Manifest };
  }
  expect(Object.keys(entries).sort()).toEqual([...COMPONENTS].sort());
  return entries;
}

interface Crafting {
  /** The crafted entry's own dir (manifest.json + files/). */
  dir: string;
  files: string;
  manifest: Manifest;
  /** The component's own directory in the install tree (a root that is a directory). */
  root: string;
  sound: Record<Component, Sound>;
}

interface HostileCase {
  what: string;
  craft(c: Crafting): Promise<void>;
  /** What the refusal says. */
  reason: RegExp;
}

const listedDir = (m: Manifest) => m.roots.find((root) => m.dirs.some((d) => d.path === root)) ?? "";

/** Two rounds of one crafted entry per component: every case of the issue, each where a build looks. */
const ROUNDS: Array<Record<Component, HostileCase>> = [
  {
    core: {
      what: "a character device (mknod)",
      craft: async (c) => {
        await execa("mknod", [path.join(c.files, c.root, "null"), "c", "1", "3"]);
      },
      reason: /is a character device/,
    },
    python: {
      what: "a FIFO (mkfifo)",
      craft: async (c) => {
        await execa("mkfifo", [path.join(c.files, c.root, "pipe")]);
      },
      reason: /is a FIFO/,
    },
    onnxruntime: {
      what: "a setuid file (chmod u+s)",
      craft: async (c) => {
        const file = c.manifest.files[0]!;
        await chmod(path.join(c.files, file.path), 0o4755);
      },
      reason: /has the setuid bit/,
    },
    checksum: {
      what: "files/ as a link to a host directory holding what the manifest lists",
      craft: async (c) => {
        const hostCopy = path.join(host, `files-${Math.random().toString(16).slice(2)}`);
        await cp(c.files, hostCopy, { recursive: true, verbatimSymlinks: true });
        await rm(c.files, { recursive: true });
        await symlink(hostCopy, c.files);
      },
      reason: /files is a symlink, not a directory/,
    },
  },
  {
    core: {
      what: "a mode of -1",
      craft: async (c) => {
        c.manifest.files[0] = { ...c.manifest.files[0]!, mode: -1 };
      },
      reason: /has mode -1: only permission bits/,
    },
    python: {
      what: "onnxruntime's files under python's key, with python's key inputs",
      craft: async (c) => {
        await rm(c.files, { recursive: true });
        await cp(path.join(c.sound.onnxruntime.dir, "files"), c.files, { recursive: true, verbatimSymlinks: true });
        const { key, inputs } = c.manifest;
        Object.assign(c.manifest, { ...structuredClone(c.sound.onnxruntime.manifest), key, inputs });
      },
      // adopt compares with the key's inputs, restore with the component the plan expects there
      reason: /it holds backend 'onnxruntime', (but its key is for|not) backend 'python'/,
    },
    onnxruntime: {
      what: "an escaping link chain (a/b/c/l -> ../../.., m -> a/b/c/l/../../../../tmp/x)",
      craft: async (c) => {
        for (const d of ["a", "a/b", "a/b/c"]) {
          await mkdir(path.join(c.files, c.root, d));
          c.manifest.dirs.push({ path: `${c.root}/${d}`, mode: 0o755 });
        }
        for (const [p, target] of [
          [`${c.root}/a/b/c/l`, "../../.."],
          [`${c.root}/m`, "a/b/c/l/../../../../tmp/x"],
        ] as const) {
          await symlink(target, path.join(c.files, p));
          c.manifest.symlinks.push({ path: p, target });
        }
      },
      reason: /symlink backends\/onnxruntime\/m points outside backends\/onnxruntime/,
    },
    checksum: {
      what: "one path listed as a directory and as a symlink",
      craft: async (c) => {
        c.manifest.dirs.push({ path: `${c.root}/both`, mode: 0o755 });
        c.manifest.symlinks.push({ path: `${c.root}/both`, target: "." });
        await symlink(".", path.join(c.files, c.root, "both"));
      },
      reason: /both is listed both as a dir and as a symlink/,
    },
  },
];

/** A copy of `sound` at `at`, changed by the case; its manifest signed with the fleet key when `signed`. */
async function craftEntry(at: string, sound: Record<Component, Sound>, component: Component, hostile: HostileCase, signed: boolean): Promise<void> {
  const base = sound[component];
  await mkdir(at, { recursive: true });
  await cp(path.join(base.dir, "files"), path.join(at, "files"), { recursive: true, verbatimSymlinks: true });
  const manifest = structuredClone(base.manifest);
  await hostile.craft({ dir: at, files: path.join(at, "files"), manifest, root: listedDir(manifest), sound });
  const { signature: _none, ...unsigned } = manifest;
  // Signed with the right key, as if the key had leaked: the checks must not rest on the signature.
  await writeFile(path.join(at, "manifest.json"), JSON.stringify(signed ? { ...unsigned, signature: signManifest(unsigned, SECRET) } : unsigned));
}

async function expectNothingHostileLeft(dirs: string[], image: string): Promise<void> {
  for (const dir of dirs) expect(await specialNodes(dir), dir).toEqual([]);
  expect(await specialNodesInImage(image, "/opt/tritonserver")).toEqual([]);
  const files = await imageFiles(image);
  expect(sameTree(files)).toEqual([]);
  expect(await readFile(path.join(host, "secret"), "utf8")).toBe("host secret\n");
}

for (const signed of [false, true]) {
  describe(`crafted registry entries, ${signed ? "with TRITON_BUILD_CACHE_KEY (crafted manifests signed with it)" : "unsigned"}`, () => {
    const repository = signed ? "hostile-signed" : "hostile";
    let remote: string;
    let sound: Record<Component, Sound>;
    let tags: Record<string, string>;

    it("machine A builds and shares every component (the sound entries the attacker starts from)", async () => {
      remote = `${registry.address}/${repository}`;
      const a = await build(`${repository}-a`, { cacheDir: path.join(temp, `${repository}-a`), remote, mode: "readwrite", signed });
      expect(Object.values(a.statuses).filter((s) => s === "built")).toHaveLength(4);
      reference ??= await imageFiles(a.tag);
      sound = await soundEntries(path.join(temp, `${repository}-a`));
      tags = Object.fromEntries(
        (await registry.tags(repository)).flatMap((tag) => {
          const entry = parseEntryTag(tag);
          return entry ? [[entry.name, tag]] : [];
        }),
      );
      expect(Object.keys(tags).sort()).toEqual([...COMPONENTS].sort());
    });

    for (const [round, cases] of ROUNDS.entries()) {
      it(`round ${round + 1}: ${COMPONENTS.map((c) => `${c}: ${cases[c].what}`).join("; ")}: each refused, rebuilt, replaced; nothing left`, async () => {
        for (const component of COMPONENTS) {
          const at = path.join(temp, "crafted", `${repository}-${round}-${component}`);
          await craftEntry(at, sound, component, cases[component], signed);
          await pushCraftedEntry(registry, repository, tags[component]!, at);
        }
        const cacheB = path.join(temp, `${repository}-b${round}`);
        const b = await build(`${repository}-b${round}`, { cacheDir: cacheB, remote, mode: "readwrite", signed });
        expect(b.statuses).toEqual({ core: "built", python: "built", onnxruntime: "built", checksum: "built", ci: "skipped" });
        for (const component of COMPONENTS) {
          const refused = b.warnings.filter((w) => w.component === component);
          expect(refused.map((w) => w.message)).toEqual([expect.stringMatching(new RegExp(`^remote cache entry \\S+:${tags[component]} was not used: `))]);
          expect(refused[0]?.message).toMatch(cases[component].reason);
          expect(b.lines).toContain(`pushed ${component} to ${remote}:${tags[component]}, replacing the entry this run rejected`);
        }
        expect(b.warnings).toHaveLength(4);
        await expectNothingHostileLeft([cacheB, b.report.workDir], b.tag);

        // The next machine (read-only) gets the rebuilt entries: no rebuild, the same image.
        const cacheC = path.join(temp, `${repository}-c${round}`);
        const c = await build(`${repository}-c${round}`, { cacheDir: cacheC, remote, mode: "read", signed });
        expect(c.statuses, JSON.stringify(c.warnings)).toEqual({
          core: "cached:remote",
          python: "cached:remote",
          onnxruntime: "cached:remote",
          checksum: "cached:remote",
          ci: "skipped",
        });
        expect(c.warnings).toEqual([]);
        await expectNothingHostileLeft([cacheC, c.report.workDir], c.tag);
        // No entry image or cache container stays on the daemon.
        expect(String((await execa("docker", ["images", "-q", `${registry.address}/${repository}`])).stdout)).toBe("");
        for (const run of [b, c]) {
          expect(
            String((await execa("docker", ["ps", "-a", "--filter", `name=triton-build-cache-${run.report.runId}`, "--format", "{{.Names}}"])).stdout),
          ).toBe("");
        }
      });
    }
  });
}

describe("crafted entries in a shared local cache dir (the restore path)", () => {
  let sound: Record<Component, Sound>;

  for (const [round, cases] of ROUNDS.entries()) {
    it(`round ${round + 1}: each refused and evicted, the component rebuilt; nothing left`, async () => {
      const cacheDir = path.join(temp, `local-${round}`);
      if (!sound) {
        const a = await build("local-a", { cacheDir: path.join(temp, "local-a"), signed: false });
        expect(Object.values(a.statuses).filter((s) => s === "built")).toHaveLength(4);
        reference ??= await imageFiles(a.tag);
        sound = await soundEntries(path.join(temp, "local-a"));
      }
      for (const component of COMPONENTS) {
        const key = sound[component].key;
        await craftEntry(path.join(cacheDir, "components", "v1", "entries", key.slice(0, 2), key), sound, component, cases[component], false);
      }
      const b = await build(`local-b${round}`, { cacheDir, signed: false });
      expect(b.statuses).toEqual({ core: "built", python: "built", onnxruntime: "built", checksum: "built", ci: "skipped" });
      for (const component of COMPONENTS) {
        const refused = b.warnings.filter((w) => w.component === component).map((w) => w.message);
        expect(refused).toEqual([expect.stringMatching(new RegExp(`^cache entry of ${component} is corrupt and was evicted \\(.*\\); building it instead$`))]);
        expect(refused[0]).toMatch(cases[component].reason);
      }
      await expectNothingHostileLeft([cacheDir, b.report.workDir], b.tag);
      const verify = await runCli(["cache", "verify", "--cache-dir", cacheDir], { tempDir: temp });
      expect(verify.stdout).toMatch(/^4 entries checked, 0 evicted$/m);
    });
  }
});
