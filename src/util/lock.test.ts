import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { tryLock, withLock } from "./lock.js";
import { processHost } from "./process.js";

let dir: string;
let target: string;
let lockDir: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tb-lock-"));
  target = path.join(dir, "locks", "entry");
  lockDir = `${target}.lock`;
});
afterEach(async () => {
  vi.useRealTimers();
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

/** A real process that exits at once: its pid is dead afterwards. */
async function deadPid(): Promise<number> {
  const child = spawn("sh", ["-c", "exit 0"]);
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid!;
}

/** Another process that takes the lock the way lock.ts does (mkdir, then owner.json) and holds it until killed. */
async function holdInChild(): Promise<ChildProcess> {
  const script = `
    const fs = require("node:fs");
    fs.mkdirSync(process.argv[1]);
    fs.writeFileSync(process.argv[1] + "/owner.json", JSON.stringify({ pid: process.pid, host: process.argv[2], since: new Date().toISOString() }));
    process.stdout.write("held\\n");
    setInterval(() => {}, 1000);
  `;
  await mkdir(path.dirname(lockDir), { recursive: true });
  const child = spawn(process.execPath, ["-e", script, lockDir, processHost()], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

async function writeOwner(owner: { pid: number; host: string }, ageMs = 0): Promise<void> {
  await mkdir(lockDir, { recursive: true });
  await writeFile(path.join(lockDir, "owner.json"), JSON.stringify({ ...owner, since: new Date().toISOString() }));
  const when = new Date(Date.now() - ageMs);
  await utimes(lockDir, when, when);
}

const owner = async () => JSON.parse(await readFile(path.join(lockDir, "owner.json"), "utf8")) as { pid: number; host: string };

describe("tryLock", () => {
  it("is exclusive: a second holder is refused until the first releases", async () => {
    const first = await tryLock(target);
    expect(first).toBeDefined();
    expect(await owner()).toMatchObject({ pid: process.pid, host: processHost() });
    expect(await tryLock(target)).toBeUndefined();
    await first!();
    await expect(stat(lockDir)).rejects.toThrow(/ENOENT/);
    const second = await tryLock(target);
    expect(second).toBeDefined();
    await second!();
  });

  it("releasing twice is harmless and does not remove a later holder's lock", async () => {
    const first = await tryLock(target);
    await first!();
    const second = await tryLock(target);
    await first!();
    expect(await tryLock(target)).toBeUndefined();
    await second!();
  });

  it("a lock held by another live process on this host is not broken", async () => {
    const holder = await holdInChild();
    expect(await tryLock(target)).toBeUndefined();
    expect((await owner()).pid).toBe(holder.pid);
  });

  it("a lock whose holder died (same host, dead pid) is broken at once", async () => {
    await writeOwner({ pid: await deadPid(), host: processHost() });
    const release = await tryLock(target);
    expect(release).toBeDefined();
    expect(await owner()).toMatchObject({ pid: process.pid, host: processHost() });
    await release!();
  });

  it("a lock from another host is not broken by its pid, only when its heartbeat is older than 30 s", async () => {
    // A pid that is dead here means nothing on another host.
    const pid = await deadPid();
    await writeOwner({ pid, host: "build-node-7#0123abcd" }, 20_000);
    expect(await tryLock(target)).toBeUndefined();
    expect((await owner()).pid).toBe(pid);
    await writeOwner({ pid, host: "build-node-7#0123abcd" }, 31_000);
    const release = await tryLock(target);
    expect(release).toBeDefined();
    await release!();
  });

  it("the same host name in another PID namespace (a container) counts as another host", async () => {
    const [hostname, namespace] = processHost().split("#");
    const otherNamespace = `${hostname}#${namespace === "ffffffff" ? "00000000" : "ffffffff"}`;
    await writeOwner({ pid: await deadPid(), host: otherNamespace });
    expect(await tryLock(target)).toBeUndefined();
  });

  it("a holder whose heartbeat stopped for 30 s is broken even when its pid is alive (pid reuse)", async () => {
    await writeOwner({ pid: process.pid, host: processHost() }, 31_000);
    const release = await tryLock(target);
    expect(release).toBeDefined();
    await release!();
  });

  it("a lock dir without owner.json is given a moment (3 s) before it is broken", async () => {
    await mkdir(lockDir, { recursive: true });
    expect(await tryLock(target)).toBeUndefined();
    const old = new Date(Date.now() - 4_000);
    await utimes(lockDir, old, old);
    const release = await tryLock(target);
    expect(release).toBeDefined();
    await release!();
  });

  it("the holder's heartbeat keeps the lock fresh, so others do not judge it stale", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const release = await tryLock(target);
    const old = new Date(Date.now() - 60_000);
    await utimes(lockDir, old, old);
    vi.advanceTimersByTime(5_000);
    await vi.waitFor(async () => expect(Date.now() - (await stat(lockDir)).mtimeMs).toBeLessThan(5_000), { timeout: 2_000, interval: 20 });
    vi.useRealTimers();
    // the owner is this (live) process, so only age could make it stale
    expect(await tryLock(target)).toBeUndefined();
    await release!();
  });
});

describe("withLock", () => {
  it("runs one holder at a time", async () => {
    let inside = 0;
    let most = 0;
    const order: string[] = [];
    const critical = (name: string) => async () => {
      inside++;
      most = Math.max(most, inside);
      order.push(`${name} in`);
      await sleep(150);
      order.push(`${name} out`);
      inside--;
      return name;
    };
    const results = await Promise.all([withLock(target, critical("a")), withLock(target, critical("b")), withLock(target, critical("c"))]);
    expect(results).toEqual(["a", "b", "c"]);
    expect(most).toBe(1);
    for (let i = 0; i < order.length; i += 2) expect(order[i + 1]).toBe(order[i]!.replace(" in", " out"));
    await expect(stat(lockDir)).rejects.toThrow(/ENOENT/);
  });

  it("waits for another holder, then takes the lock when it is released", async () => {
    const held = await tryLock(target);
    let ranAt = 0;
    const waiting = withLock(target, async () => {
      ranAt = Date.now();
      return "done";
    });
    await sleep(500);
    expect(ranAt).toBe(0);
    const releasedAt = Date.now();
    await held!();
    expect(await waiting).toBe("done");
    expect(ranAt).toBeGreaterThanOrEqual(releasedAt);
  });

  it("waits for another process's lock and takes it when that process is killed", async () => {
    const holder = await holdInChild();
    let ran = false;
    const waiting = withLock(target, async () => {
      ran = true;
    });
    await sleep(500);
    expect(ran).toBe(false);
    holder.kill("SIGKILL");
    await waiting;
    expect(ran).toBe(true);
  });

  it("releases the lock when the function throws", async () => {
    await expect(withLock(target, async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    const release = await tryLock(target);
    expect(release).toBeDefined();
    await release!();
  });

  it("gives up after waitMs with an error naming the lock, without running the function", async () => {
    const held = await tryLock(target);
    let ran = false;
    const started = Date.now();
    await expect(
      withLock(
        target,
        async () => {
          ran = true;
        },
        { waitMs: 1_000 },
      ),
    ).rejects.toThrow(`timed out after 1 s waiting for the lock on ${target}`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(ran).toBe(false);
    // the other holder's lock is untouched
    expect(await owner()).toMatchObject({ pid: process.pid });
    await held!();
  });

  it("stops waiting when its signal is aborted", async () => {
    const held = await tryLock(target);
    const controller = new AbortController();
    let ran = false;
    const waiting = withLock(
      target,
      async () => {
        ran = true;
      },
      { signal: controller.signal },
    );
    const reason = new Error("cancelled by test");
    setTimeout(() => controller.abort(reason), 300);
    const error = (await waiting.then(
      () => undefined,
      (e: unknown) => e,
    )) as Error | undefined;
    // the reason itself, or the AbortError of the sleep between attempts (whose cause is the reason)
    expect(error === reason || (error?.name === "AbortError" && error.cause === reason), String(error)).toBe(true);
    expect(ran).toBe(false);
    await held!();
  });
});
