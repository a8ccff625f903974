import { randomBytes } from "node:crypto";
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * Writes `value` as JSON (and a newline) under a temporary name in the same directory, then
 * renames it into place: a reader never sees half a file. The directory is made if missing.
 */
export async function writeJsonAtomically(file: string, value: unknown, indent?: number): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const temp = `${file}.tmp-${process.pid}-${randomBytes(3).toString("hex")}`;
  await writeFile(temp, `${JSON.stringify(value, null, indent)}\n`);
  await rename(temp, file);
}
