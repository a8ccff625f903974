import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { execa } from "execa";
import { parseCmakeBuild } from "../../buildpy/cmake-build.js";
import { markerLine, rewriteCmakeBuild } from "../../buildpy/rewrite.js";
import { ComponentLogDemux } from "./component-logs.js";
import type { BuildEvent } from "../../run/events.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tb-demux-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("ComponentLogDemux", () => {
  it("routes lines to per-component logs with timing and percentages", async () => {
    const events: BuildEvent[] = [];
    let now = 1000;
    const demux = new ComponentLogDemux(dir, "n", (e) => events.push(e), { now: () => now });
    await demux.open();
    demux.line("preamble");
    demux.line(markerLine("n", "begin", "core"));
    demux.line("[ 10%] Building CXX object a.o");
    demux.line("plain line\r");
    now = 3500;
    demux.line(markerLine("n", "end", "core"));
    demux.line(markerLine("n", "begin", "python"));
    demux.line("[ 50%] Linking");
    await demux.close();

    expect(await readFile(path.join(dir, "core.log"), "utf8")).toBe("[ 10%] Building CXX object a.o\nplain line\n");
    expect(await readFile(path.join(dir, "builder.log"), "utf8")).toBe("preamble\n");
    expect(events).toContainEqual({ type: "component-output", name: "core", line: "[ 10%] Building CXX object a.o", percent: 10 });
    // without --verbose, output events are throttled: the plain line right after is not one
    expect(events.filter((e) => e.type === "component-output").map((e) => (e as { line: string }).line)).not.toContain("plain line");
    expect(events).toContainEqual(expect.objectContaining({ type: "component-end", name: "core", status: "ok", durationMs: 2500 }));
    expect(demux.timings.filter((t) => t.endedAt !== undefined).map((t) => t.name)).toEqual(["core"]);
    expect(demux.unfinished()?.name).toBe("python");
    expect(demux.tail("python")).toEqual(["[ 50%] Linking"]);
  });

  it("a component that prints nothing still has the (empty) log file its events name", async () => {
    const events: BuildEvent[] = [];
    const demux = new ComponentLogDemux(dir, "n", (e) => events.push(e));
    await demux.open();
    demux.line(markerLine("n", "begin", "quiet"));
    demux.line(markerLine("n", "end", "quiet"));
    await demux.close();
    const end = events.find((e) => e.type === "component-end") as { logPath: string } | undefined;
    expect(end?.logPath).toBe(path.join(dir, "quiet.log"));
    expect(await readFile(path.join(dir, "quiet.log"), "utf8")).toBe("");
  });

  it("splits raw chunks at any boundary, and cuts endless lines", async () => {
    const events: BuildEvent[] = [];
    const demux = new ComponentLogDemux(dir, "n", (e) => events.push(e), { everyLine: true });
    await demux.open();
    const text = `${markerLine("n", "begin", "x")}\r\nfirst\r\nsecond\n${markerLine("n", "end", "x")}\n`;
    for (const chunk of text.match(/[\s\S]{1,3}/g) ?? []) await demux.write(Buffer.from(chunk));
    await demux.close();
    expect(await readFile(path.join(dir, "x.log"), "utf8")).toBe("first\nsecond\n");
    expect(events.map((e) => e.type)).toEqual(["component-start", "component-output", "component-output", "component-end"]);
  });

  it("finds a marker after a tool's carriage-return progress on the same line", async () => {
    const events: BuildEvent[] = [];
    const demux = new ComponentLogDemux(dir, "n", (e) => events.push(e), { everyLine: true });
    await demux.open();
    await demux.write(Buffer.from(`${markerLine("n", "begin", "x")}\nReceiving objects: 100%\r${markerLine("n", "end", "x")}\n`));
    await demux.close();
    expect(events.map((e) => e.type)).toEqual(["component-start", "component-output", "component-end"]);
    expect(await readFile(path.join(dir, "x.log"), "utf8")).toBe("Receiving objects: 100%\r\n");
  });

  it("keeps only the last 40 lines as the tail", async () => {
    const demux = new ComponentLogDemux(dir, "n", () => undefined);
    await demux.open();
    demux.line(markerLine("n", "begin", "x"));
    for (let i = 0; i < 100; i++) demux.line(`line ${i}`);
    await demux.close();
    expect(demux.tail("x")).toHaveLength(40);
    expect(demux.tail("x").at(-1)).toBe("line 99");
  });
});

describe("the rewritten cmake_build run by bash, through the demux", () => {
  // A real bash run of a rewritten script, as in the builder container: build.py -v adds
  // `set -x`, and sections write to stderr right after their begin marker (git clone does).
  const script = [
    "#!/usr/bin/env bash",
    "set -e",
    "set -x",
    "########",
    "# Triton core library and tritonserver executable",
    "# ",
    "echo core-out; echo core-err >&2",
    "# ",
    "# end Triton core library and tritonserver executable",
    "########",
    "########",
    "# 'python' backend",
    "# Delete this section to remove backend from build",
    "# ",
    "for i in 1 2 3; do echo python-err-$i >&2; echo python-out-$i; done",
    "# ",
    "# end 'python' backend",
    "########",
  ].join("\n");

  it("sees each begin and end once, in order, and routes stderr to the component that wrote it", async () => {
    const rewritten = rewriteCmakeBuild(parseCmakeBuild(script), { build: new Set(["core", "python"]), nonce: "n9" });
    const events: BuildEvent[] = [];
    const demux = new ComponentLogDemux(dir, "n9", (e) => events.push(e), { everyLine: true });
    await demux.open();
    // Two pipes, as `docker start -a` hands them over; the script itself merges stderr into stdout.
    const child = execa("bash", ["-c", rewritten], { buffer: false, reject: true });
    for (const stream of [child.stdout, child.stderr]) stream?.on("data", (chunk: Buffer) => void demux.write(chunk));
    await child;
    await demux.close();
    const edges = events.filter((e) => e.type === "component-start" || e.type === "component-end").map((e) => `${e.type}:${(e as { name: string }).name}`);
    expect(edges).toEqual(["component-start:core", "component-end:core", "component-start:python", "component-end:python"]);
    const python = (await readFile(path.join(dir, "python.log"), "utf8")).split("\n").filter((l) => !l.startsWith("+"));
    expect(python).toEqual(["python-err-1", "python-out-1", "python-err-2", "python-out-2", "python-err-3", "python-out-3", ""]);
    expect(await readFile(path.join(dir, "core.log"), "utf8")).toContain("core-err");
  });

  it("keeps a section's exports and cd from the sections after it, and stops at a failing section", async () => {
    const leaky = [
      "#!/usr/bin/env bash",
      "set -e",
      "########",
      "# 'tensorrtllm' backend",
      "# ",
      "export TRT_ROOT=/usr/local/tensorrt; cd /",
      "# ",
      "# end 'tensorrtllm' backend",
      "########",
      "########",
      "# 'python' backend",
      "# ",
      'echo "TRT_ROOT=${TRT_ROOT:-unset} PWD=$PWD"',
      "# ",
      "# end 'python' backend",
      "########",
      "########",
      "# 'onnxruntime' backend",
      "# ",
      "false",
      "echo not-reached",
      "# ",
      "# end 'onnxruntime' backend",
      "########",
      "echo after-all",
    ].join("\n");
    const rewritten = rewriteCmakeBuild(parseCmakeBuild(leaky), { build: new Set(["tensorrtllm", "python", "onnxruntime"]), nonce: "n8" });
    const result = await execa("bash", ["-c", rewritten], { cwd: dir, reject: false });
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).toContain(`TRT_ROOT=unset PWD=${dir}`);
    expect(result.stdout).toContain(markerLine("n8", "begin", "onnxruntime"));
    expect(result.stdout).not.toContain(markerLine("n8", "end", "onnxruntime"));
    expect(result.stdout).not.toContain("not-reached");
    expect(result.stdout).not.toContain("after-all");
  });
});
