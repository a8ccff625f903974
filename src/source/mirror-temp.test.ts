import { mkdir, mkdtemp, readdir, rm, utimes } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { processHostTag } from "../util/process.js";
import { mirrorTempDir, removeStaleMirrorTemps } from "./mirror-temp.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tb-mirror-temp-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("temporary mirror directories of killed runs", () => {
  it("are removed when their writer is gone; a live writer's, another host's recent one and other mirrors' stay", async () => {
    const mirror = path.join(dir, "github.com-server-0123abcd");
    const host = processHostTag();
    const names = {
      dead: `${path.basename(mirror)}.tmp-${host}-2147483646-1700000000000`,
      live: path.basename(mirrorTempDir(mirror)),
      foreignRecent: `${path.basename(mirror)}.tmp-00000000-1-1700000000000`,
      foreignOld: `${path.basename(mirror)}.tmp-11111111-1-1600000000000`,
      otherMirror: `other-mirror.tmp-${host}-2147483646-1700000000000`,
    };
    for (const name of Object.values(names)) await mkdir(path.join(dir, name, "objects"), { recursive: true });
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600_000);
    await utimes(path.join(dir, names.foreignOld), twoDaysAgo, twoDaysAgo);

    expect(await removeStaleMirrorTemps(mirror)).toBe(2);
    expect((await readdir(dir)).sort()).toEqual([names.live, names.foreignRecent, names.otherMirror].sort());
  });
});
