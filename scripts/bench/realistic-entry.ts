// A component's install tree that looks like a real backend to a compressor: shared libraries and
// executables (ELF files taken from this machine: Debian's libraries, LLVM, the CUDA toolkit's
// libraries when present, JDK, Go binaries of docker) for about 90 % of the bytes, and text
// (Python sources, C headers, JSON) for the rest, in a backends/<name>/ tree with versioned-library
// symlinks as real backends have. Files are picked in a fixed order (by the sha256 of their path),
// so the same machine gives the same tree; when the machine has fewer unique bytes than asked,
// files are used again under other names.
import { createHash } from "node:crypto";
import type { Dirent } from "node:fs";
import { copyFile, mkdir, open, readdir, stat, symlink } from "node:fs/promises";
import path from "node:path";

const ROOTS = ["/usr/lib", "/usr/local", "/usr/bin", "/usr/sbin", "/usr/libexec", "/opt"];
const TEXT = /\.(py|h|hpp|txt|json)$/;

interface Candidate {
  file: string;
  size: number;
  order: string;
}

async function* walk(dir: string, seen: Set<string>): AsyncGenerator<string> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full, seen);
    else if (entry.isFile()) {
      const info = await stat(full).catch(() => undefined);
      if (!info || info.size < 20_000) continue;
      const inode = `${info.dev}:${info.ino}`;
      if (seen.has(inode)) continue;
      seen.add(inode);
      yield full;
    }
  }
}

async function isElf(file: string): Promise<boolean> {
  const handle = await open(file, "r").catch(() => undefined);
  if (!handle) return false;
  try {
    const buffer = Buffer.alloc(4);
    await handle.read(buffer, 0, 4, 0);
    return buffer.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    await handle.close();
  }
}

async function candidates(): Promise<{ binaries: Candidate[]; texts: Candidate[] }> {
  const seen = new Set<string>();
  const binaries: Candidate[] = [];
  const texts: Candidate[] = [];
  for (const root of ROOTS) {
    for await (const file of walk(root, seen)) {
      const size = (await stat(file)).size;
      const order = createHash("sha256").update(file).digest("hex");
      if (TEXT.test(file)) texts.push({ file, size, order });
      else if (await isElf(file)) binaries.push({ file, size, order });
    }
  }
  const byOrder = (a: Candidate, b: Candidate) => a.order.localeCompare(b.order);
  return { binaries: binaries.sort(byOrder), texts: texts.sort(byOrder) };
}

export interface RealisticEntry {
  installRoot: string;
  files: number;
  bytes: number;
  binaryBytes: number;
  textBytes: number;
}

/** Fills `<installRoot>/backends/<name>/` with about `targetBytes` of libraries and text. */
export async function makeRealisticBackend(installRoot: string, name: string, targetBytes: number): Promise<RealisticEntry> {
  const { binaries, texts } = await candidates();
  if (!binaries.length || !texts.length) throw new Error("no ELF or text files found to build a realistic entry from");
  const root = path.join(installRoot, "backends", name);
  const result: RealisticEntry = { installRoot, files: 0, bytes: 0, binaryBytes: 0, textBytes: 0 };
  const fill = async (pool: Candidate[], share: number, dir: string, kind: "binaryBytes" | "textBytes") => {
    const goal = targetBytes * share;
    for (let round = 0, index = 0; result[kind] < goal; index++) {
      if (index === pool.length) {
        index = 0;
        round++;
      }
      const candidate = pool[index]!;
      const base = path.basename(candidate.file);
      const target = path.join(root, dir, `${candidate.order.slice(0, 2)}`, round ? `r${round}-${base}` : base);
      await mkdir(path.dirname(target), { recursive: true });
      await copyFile(candidate.file, target).catch(() => undefined);
      const size = await stat(target).then(
        (s) => s.size,
        () => 0,
      );
      if (size === 0) continue;
      result[kind] += size;
      result.bytes += size;
      result.files++;
      // Versioned libraries come with their links (libfoo.so -> libfoo.so.1).
      if (dir === "lib" && /\.so\.\d+/.test(base) && result.files % 5 === 0) {
        await symlink(path.basename(target), target.replace(/\.so\.\d[\d.]*$/, ".so")).catch(() => undefined);
      }
    }
  };
  await fill(binaries, 0.9, "lib", "binaryBytes");
  await fill(texts, 0.1, "python", "textBytes");
  return result;
}
