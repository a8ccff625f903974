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

/**
 * Whether a command that wrote into a pipe failed only because its reader went away (tar could
 * not write to a full disk and exited): its failure is then the reader's, not its own.
 */
export function brokenPipe(stderr: string, signal: string | undefined): boolean {
  return signal === "SIGPIPE" || /broken pipe|EPIPE|write error/i.test(stderr);
}
