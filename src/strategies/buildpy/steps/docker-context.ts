import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * Runs `fn` with extra patterns in the checkout's .dockerignore, then puts the file back as it
 * was. The buildbase image does not need `build/` (the builder gets its cmake_build copied in),
 * and leaving it out keeps that image's context the same for every preset and run of a commit,
 * so Docker's layer cache holds; the final image does need `build/install`.
 */
export async function withDockerignore<T>(contextDir: string, patterns: readonly string[], fn: () => Promise<T>): Promise<T> {
  const file = path.join(contextDir, ".dockerignore");
  const original = await readFile(file, "utf8").catch(() => undefined);
  await writeFile(file, `${original ?? ""}${original && !original.endsWith("\n") ? "\n" : ""}# added by triton-build for this image\n${patterns.join("\n")}\n`);
  try {
    return await fn();
  } finally {
    if (original === undefined) await rm(file, { force: true });
    else await writeFile(file, original);
  }
}
