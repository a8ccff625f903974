import { createHash } from "node:crypto";
import { lstat, mkdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir, removeTempDir } from "../../../test/helpers/cli.js";
import { type ReadMember, readTar, TAR_END, TarFormatError, type TarMember, tarHeader, tarPadding } from "./tar.js";

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir("tb-tar-");
});
afterEach(() => removeTempDir(dir));

const LONG = `${"deep/".repeat(30)}libtriton_with_a_rather_long_name.so`;

function archive(members: Array<{ member: TarMember; data?: Buffer }>): Buffer {
  const parts: Buffer[] = [];
  for (const { member, data } of members) {
    parts.push(tarHeader(member));
    if (data) parts.push(data, tarPadding(data.length));
  }
  parts.push(TAR_END);
  return Buffer.concat(parts);
}

async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}

/** Every member with the sha256 of its data, read with the given chunk size. */
async function read(data: Buffer, chunk = 7): Promise<Array<ReadMember & { sha256?: string }>> {
  const members: Array<ReadMember & { sha256?: string }> = [];
  let hash: ReturnType<typeof createHash> | undefined;
  for await (const event of readTar(pieces(data, chunk))) {
    if (event.event === "member") {
      members.push(event.member);
      hash = createHash("sha256");
    } else if (event.event === "data") hash?.update(event.chunk);
    else if (members.at(-1)?.kind === "file") members.at(-1)!.sha256 = hash?.digest("hex");
  }
  return members;
}

const sha = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

describe("tar written here", () => {
  it("GNU tar extracts it: files, modes, directories, symlinks, a long name and a long link target", async () => {
    const big = Buffer.alloc(5000, 7);
    const tar = archive([
      { member: { type: "dir", path: "files", mode: 0o755 } },
      { member: { type: "dir", path: "files/lib", mode: 0o750 } },
      { member: { type: "file", path: "files/lib/a.so", mode: 0o755, size: big.length }, data: big },
      { member: { type: "file", path: `files/${LONG}`, mode: 0o644, size: 3 }, data: Buffer.from("abc") },
      { member: { type: "symlink", path: "files/lib/a.so.1", target: "a.so" } },
      { member: { type: "symlink", path: "files/lib/far", target: `../${LONG}` } },
      { member: { type: "file", path: "files/empty", mode: 0o600, size: 0 } },
    ]);
    await writeFile(path.join(dir, "x.tar"), tar);
    await mkdir(path.join(dir, "out"));
    await execa("tar", ["-x", "-f", path.join(dir, "x.tar"), "-C", path.join(dir, "out")]);
    const out = path.join(dir, "out", "files");
    expect(await readFile(path.join(out, "lib", "a.so"))).toEqual(big);
    expect((await lstat(path.join(out, "lib", "a.so"))).mode & 0o7777).toBe(0o755);
    expect((await lstat(path.join(out, "lib"))).mode & 0o7777).toBe(0o750);
    expect(await readFile(path.join(out, LONG), "utf8")).toBe("abc");
    expect(await readlink(path.join(out, "lib", "a.so.1"))).toBe("a.so");
    expect(await readlink(path.join(out, "lib", "far"))).toBe(`../${LONG}`);
    expect((await lstat(path.join(out, "empty"))).size).toBe(0);
  });

  it("reads back what it wrote, whatever the chunk boundaries", async () => {
    const tar = archive([
      { member: { type: "file", path: "manifest.json", mode: 0o644, size: 2 }, data: Buffer.from("{}") },
      { member: { type: "file", path: `files/${LONG}`, mode: 0o640, size: 1030 }, data: Buffer.alloc(1030, 1) },
      { member: { type: "symlink", path: "files/l", target: `x/${LONG}` } },
    ]);
    for (const chunk of [1, 7, 512, 100_000]) {
      expect(await read(tar, chunk)).toEqual([
        { kind: "file", typeflag: "0", path: "manifest.json", mode: 0o644, size: 2, linkname: "", sha256: sha("{}") },
        { kind: "file", typeflag: "0", path: `files/${LONG}`, mode: 0o640, size: 1030, linkname: "", sha256: sha(Buffer.alloc(1030, 1)) },
        { kind: "symlink", typeflag: "2", path: "files/l", mode: 0o777, size: 0, linkname: `x/${LONG}` },
      ]);
    }
  });
});

describe("reading tar written by others", () => {
  beforeEach(async () => {
    const src = path.join(dir, "src");
    await mkdir(path.join(src, "files", path.dirname(LONG)), { recursive: true });
    await writeFile(path.join(src, "files", LONG), "long");
    await writeFile(path.join(src, "files", "setuid"), "s");
    await execa("chmod", ["4755", path.join(src, "files", "setuid")]);
    await symlink(`../${"t".repeat(150)}`, path.join(src, "files", "link"));
    await execa("mkfifo", [path.join(src, "files", "fifo")]);
  });

  for (const format of ["gnu", "pax", "ustar"]) {
    it(`GNU tar --format=${format}: long names, the real mode bits and every type as it is`, async () => {
      const result = await execa("tar", ["-c", `--format=${format}`, "-C", path.join(dir, "src"), "files"], { encoding: "buffer", reject: false });
      if (format === "ustar") {
        // ustar cannot hold a 150-byte link target: GNU tar refuses rather than truncating.
        expect(result.exitCode).not.toBe(0);
        return;
      }
      const members = await read(Buffer.from(result.stdout), 333);
      const byPath = new Map(members.map((m) => [m.path.replace(/\/$/, ""), m]));
      expect(byPath.get(`files/${LONG}`)).toMatchObject({ kind: "file", size: 4, sha256: sha("long") });
      expect(byPath.get("files/setuid")).toMatchObject({ kind: "file", mode: 0o4755 });
      expect(byPath.get("files/link")).toMatchObject({ kind: "symlink", linkname: `../${"t".repeat(150)}` });
      expect(byPath.get("files/fifo")).toMatchObject({ kind: "fifo", typeflag: "6" });
      expect(byPath.get("files")).toMatchObject({ kind: "dir" });
    });
  }

  it("a device node made with mknod is read as a device, for the caller to refuse", async () => {
    await execa("mknod", [path.join(dir, "src", "files", "null"), "c", "1", "3"]);
    const result = await execa("tar", ["-c", "-C", path.join(dir, "src"), "files/null"], { encoding: "buffer" });
    expect(await read(Buffer.from(result.stdout))).toMatchObject([{ kind: "char-device", typeflag: "3", path: "files/null" }]);
  });
});

describe("malformed archives", () => {
  it("a header whose checksum is wrong is refused", async () => {
    const tar = archive([{ member: { type: "file", path: "a", mode: 0o644, size: 1 }, data: Buffer.from("x") }]);
    tar[0] = "b".charCodeAt(0);
    await expect(read(tar)).rejects.toThrow(new TarFormatError("a header's checksum does not match"));
  });

  it("an archive cut short is refused", async () => {
    const tar = archive([{ member: { type: "file", path: "a", mode: 0o644, size: 3000 }, data: Buffer.alloc(3000) }]);
    await expect(read(tar.subarray(0, 2048))).rejects.toThrow("the archive ends in the middle of a member");
    await expect(read(tar.subarray(0, tar.length - TAR_END.length))).rejects.toThrow("the archive has no end-of-archive blocks");
  });

  it("bytes after the end-of-archive blocks are read (so a digest sees them) and ignored", async () => {
    const tar = Buffer.concat([archive([{ member: { type: "dir", path: "d", mode: 0o755 } }]), Buffer.alloc(4096, 9)]);
    const seen: number[] = [];
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const chunk of pieces(tar, 1000)) {
        seen.push(chunk.length);
        yield chunk;
      }
    }
    const members: TarEventKinds[] = [];
    for await (const event of readTar(counted())) members.push(event.event);
    expect(members).toEqual(["member", "end"]);
    expect(seen.reduce((a, b) => a + b, 0)).toBe(tar.length);
  });
});

type TarEventKinds = "member" | "data" | "end";
