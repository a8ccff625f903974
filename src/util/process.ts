import { createHash } from "node:crypto";
import { readlinkSync } from "node:fs";
import os from "node:os";

/** Whether a process with this pid exists in our PID namespace (EPERM: it exists but is not ours). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

let identity: string | undefined;

/**
 * Where a pid means something: the host name and the PID namespace. Containers that share a
 * host name (host networking) but not a PID namespace are different places.
 */
export function processHost(): string {
  if (identity === undefined) {
    let namespace = "";
    try {
      namespace = readlinkSync("/proc/self/ns/pid");
    } catch {
      namespace = "";
    }
    identity = `${os.hostname()}#${createHash("sha256").update(namespace).digest("hex").slice(0, 8)}`;
  }
  return identity;
}

/** A short, file-name-safe tag of processHost(), for names that carry a pid. */
export function processHostTag(): string {
  return createHash("sha256").update(processHost()).digest("hex").slice(0, 8);
}
