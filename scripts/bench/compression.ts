// How remote cache layers are compressed, measured (BENCHMARKS.md, "Compression"): on the realistic
// entry of rows 5a/5b, gzip levels 0, 1, 3 and 6 over every file in one thread (throughput of
// input bytes, and compressed size), gunzip of level 1, and the per-file choice the pack step
// makes (level 1 where a file's samples compress, stored where they do not). Also random bytes,
// the worst case. Speeds are per CPU second of this process, so other load does not skew them. Run: npx tsc -p tsconfig.bench.json && node build/bench/scripts/bench/compression.js
import { randomBytes } from "node:crypto";
import { open, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { levelForFile } from "../../src/cache/oci/compression.js";
import { makeRealisticBackend } from "./realistic-entry.js";

const MB = Number(process.env.BENCH_REMOTE_MB ?? 1024);

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(path.join(entry.parentPath, entry.name));
  }
  return out.sort();
}

/** CPU seconds of this process (the work is synchronous, on this thread): other load on the machine does not change it. */
function cpuSeconds(work: () => void): number {
  const started = process.cpuUsage();
  work();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1e6;
}

function measure(buffers: Buffer[], level: number | ((i: number) => number)): { seconds: number; ratio: number } {
  const input = buffers.reduce((sum, b) => sum + b.length, 0);
  let output = 0;
  const seconds = cpuSeconds(() =>
    buffers.forEach((buffer, i) => {
      output += zlib.gzipSync(buffer, { level: typeof level === "number" ? level : level(i) }).length;
    }),
  );
  return { seconds, ratio: output / input };
}

async function main(): Promise<void> {
  const dir = path.join(os.tmpdir(), `triton-build-compression-${process.pid}`);
  try {
    const made = await makeRealisticBackend(dir, "realistic", MB * 2 ** 20);
    const paths = await files(dir);
    const buffers = await Promise.all(paths.map((p) => readFile(p)));
    const levels = await Promise.all(
      paths.map(async (p, i) => {
        const handle = await open(p, "r");
        try {
          return await levelForFile(handle, buffers[i]!.length);
        } finally {
          await handle.close();
        }
      }),
    );
    const total = made.bytes / 1e6;
    const lines = [
      `realistic entry: ${made.files} files, ${(made.bytes / 2 ** 20).toFixed(0)} MiB, ${((made.binaryBytes / made.bytes) * 100).toFixed(0)} % ELF`,
    ];
    for (const level of [0, 1, 3, 6]) {
      const { seconds, ratio } = measure(buffers, level);
      lines.push(`gzip level ${level}: ${(total / seconds).toFixed(0)} MB of input per CPU second; compressed to ${ratio.toFixed(3)}`);
    }
    const chosen = measure(buffers, (i) => levels[i]!);
    const stored = levels.filter((l) => l === 0).length;
    lines.push(
      `per-file choice (${stored} of ${levels.length} files stored): ${(total / chosen.seconds).toFixed(0)} MB per CPU second, compressed to ${chosen.ratio.toFixed(3)}`,
    );
    const level1 = buffers.map((b) => zlib.gzipSync(b, { level: 1 }));
    const gunzipSeconds = cpuSeconds(() => {
      for (const z of level1) zlib.gunzipSync(z);
    });
    lines.push(`gunzip of level 1: ${(total / gunzipSeconds).toFixed(0)} MB of output per CPU second`);
    const random = randomBytes(256 * 2 ** 20);
    for (const level of [0, 1]) {
      const { seconds, ratio } = measure([random], level);
      lines.push(`random bytes, level ${level}: ${(random.length / 1e6 / seconds).toFixed(0)} MB per CPU second, compressed to ${ratio.toFixed(3)}`);
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
