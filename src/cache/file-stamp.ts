import type { BigIntStats } from "node:fs";

/**
 * Which version of a file's content this is, without reading it: device, inode, size and the
 * nanosecond modification and change times. Any write to the file, a chmod, or another file put
 * at its path changes it (the change time cannot be set by a user). So a file whose stamp is
 * the one taken when its sha256 was checked still holds the checked bytes, and need not be hashed
 * again in the same run.
 */
export type FileStamp = string;

/** Entry paths (relative to files/) -> the stamp each file had right after its sha256 was checked. */
export type VerifiedFiles = ReadonlyMap<string, FileStamp>;

export function fileStamp(info: BigIntStats): FileStamp {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
}
