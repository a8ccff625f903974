import { existsSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { handleExitRequests } from "./exit-request.js";
import type { Output } from "./output.js";
import { withScratchDir } from "./scratch-dir.js";
import { runSession } from "./session.js";

// Signal handlers ask the entry point to exit; here the "entry point" records the request.
let removeHandler: (() => void) | undefined;
afterEach(() => {
  removeHandler?.();
  vi.restoreAllMocks();
});

function recordExits(): number[] {
  const exits: number[] = [];
  removeHandler = handleExitRequests((code) => void exits.push(code));
  return exits;
}

const quiet: Output = { out: () => undefined, err: () => undefined };
const sessionOptions = { json: true, verbose: false, quiet: false, stdoutIsTTY: false };

describe("Ctrl-C asks the entry point to exit; nothing else exits the process", () => {
  it("plan's scratch dir is removed, then exit 130 is requested", async () => {
    const exits = recordExits();
    let scratch = "";
    await withScratchDir("tb-exit-request-", async (dir) => {
      scratch = dir;
      process.emit("SIGINT");
    });
    expect(existsSync(scratch)).toBe(false);
    expect(exits).toEqual([130]);
  });

  it("a build session: the first signal aborts the run, a second one, even at once, requests exit 130", async () => {
    const exits = recordExits();
    const aborted = await runSession(quiet, sessionOptions, async (_emit, signal) => {
      process.emit("SIGINT");
      const first = signal.aborted;
      const before = [...exits];
      process.emit("SIGTERM"); // the user's second signal, within the same millisecond
      return { first, before };
    });
    expect(aborted).toEqual({ first: true, before: [] });
    expect(exits).toEqual([130]);
  });
});
