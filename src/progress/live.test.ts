import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { BuildEvent } from "../run/events.js";
import { LiveView } from "./live.js";
import { SPINNER } from "./live-rows.js";
import { COLOURS, NO_COLOURS, visibleWidth } from "./terminal-text.js";
import { stripVTControlCharacters as stripAnsi } from "node:util";

/**
 * Just enough of a terminal for the view's output: text, newlines, "cursor to the start of the
 * line N rows up" (CSI N F) and "erase to the end of the screen" (CSI J). What it shows is what
 * a person would see, stale rows included.
 */
class FakeTerminal {
  rows: string[] = [""];
  private row = 0;
  write = (text: string) => {
    for (const part of text.split(/(\u001b\[\d*F|\u001b\[J|\n)/)) {
      const up = /^\u001b\[(\d*)F$/.exec(part);
      if (up) this.row = Math.max(0, this.row - Number(up[1] || 1));
      else if (part === "\u001b[J") this.rows.length = this.row + 1;
      else if (part === "\n") {
        this.row++;
        this.rows[this.row] ??= "";
      } else if (part) this.rows[this.row] = (this.rows[this.row] ?? "") + part;
      if (this.row === this.rows.length - 1 && part === "\u001b[J") this.rows[this.row] = "";
    }
  };
  get screen(): string[] {
    return this.rows.map((row) => stripAnsi(row)).filter((row, i, all) => row !== "" || i < all.length - 1);
  }
}

function view(size = { columns: 60, rows: 20 }, now = () => 10_000) {
  const terminal = new FakeTerminal();
  const live = new LiveView({ columns: () => size.columns, rows: () => size.rows, out: terminal.write, err: terminal.write }, COLOURS, undefined, now);
  return { terminal, live, feed: (events: BuildEvent[]) => events.forEach(live.onEvent) };
}

/** A plan that compiles these components, and the start of the builder phase. */
const compiling = (names: string[]): BuildEvent[] => [
  { type: "plan", components: names.map((name) => ({ name, kind: "backend", action: "build" as const })) },
  { type: "phase-start", phase: "builder", title: "Compile components" },
];

const spins = (row: string) => SPINNER.some((frame) => row.includes(frame));

/** Output lines are drawn with the next frame (every 100 ms), not one write per line. */
const nextFrame = () => vi.advanceTimersByTime(100);

describe("the live view", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("a docker step line is one row cut to the width, its step counter said once", () => {
    const { terminal, live, feed } = view();
    feed([
      { type: "phase-start", phase: "buildbase", title: "Build image (buildbase)" },
      {
        type: "phase-output",
        phase: "buildbase",
        line: `Step 6/20 : RUN apt-get update && apt-get install -y ${"libsomething-dev ".repeat(10)}`,
        step: { current: 6, total: 20 },
      },
    ]);
    nextFrame();
    const screen = terminal.screen;
    expect(screen).toHaveLength(2);
    expect(screen[0]).toMatch(/^\S Build image \(buildbase\) {2}0ms {2}step 6\/20$/);
    expect(screen[1]).toMatch(/^ {6}RUN apt-get update .*…$/);
    expect(screen.join("\n")).not.toContain("Step 6/20");
    expect(screen.every((row) => visibleWidth(row) <= 59)).toBe(true);
    live.end();
  });

  it("waiting components do not spin; running and finished ones say how long", () => {
    let now = 0;
    const { terminal, live, feed } = view(undefined, () => now);
    feed([...compiling(["core", "python", "onnxruntime"]), { type: "component-start", name: "core" }]);
    now = 2500;
    feed([{ type: "component-output", name: "core", line: "[ 50%] Building CXX object", percent: 50 }]);
    nextFrame();
    const screen = terminal.screen;
    expect(screen[0]).toMatch(/^\S Compile components {2}2\.5s$/);
    expect(screen[1]).toMatch(/^ {4}\S core {2}2\.5s {2}\[50%\]$/);
    expect(spins(screen[1] ?? "")).toBe(true);
    expect(screen.slice(3)).toEqual(["    · python  waiting", "    · onnxruntime  waiting"]);
    live.end();
  });

  it("components compiling at once each say which engine and builder they are on, also once finished", () => {
    let now = 0;
    const { terminal, live, feed } = view({ columns: 80, rows: 20 }, () => now);
    feed([
      ...compiling(["core", "python"]),
      { type: "component-start", name: "core", engine: "default", builder: 1 },
      { type: "component-start", name: "python", engine: "gpu-box-2", builder: 2 },
    ]);
    now = 1500;
    nextFrame();
    expect(terminal.screen.filter((row) => row.includes(" on "))).toEqual([
      expect.stringMatching(/^ {4}\S core {2}1\.5s {2}on default\/1$/),
      expect.stringMatching(/^ {4}\S python {2}1\.5s {2}on gpu-box-2\/2$/),
    ]);
    feed([{ type: "component-end", name: "python", status: "ok", durationMs: 1500 }]);
    nextFrame();
    expect(terminal.screen).toContain("    ✔ python  1.5s  on gpu-box-2/2");
    live.end();
  });

  it("Ctrl-C: the running row becomes its interrupted row, waiting ones 'not run'; the notice comes first, nothing stale", () => {
    let now = 0;
    const { terminal, live, feed } = view(undefined, () => now);
    feed([
      ...compiling(["core", "python", "onnxruntime"]),
      { type: "component-start", name: "core" },
      { type: "component-end", name: "core", status: "ok", durationMs: 1000 },
      { type: "component-start", name: "python" },
    ]);
    now = 3000;
    live.notice("SIGINT: stopping");
    feed([
      { type: "component-end", name: "python", status: "interrupted", durationMs: 2000 },
      { type: "phase-end", phase: "builder", status: "interrupted", durationMs: 3000 },
    ]);
    live.end();
    expect(terminal.screen).toEqual([
      "SIGINT: stopping",
      "■ Compile components  interrupted after 3.0s",
      "    ✔ core  1.0s",
      "    ■ python  interrupted after 2.0s",
      "    · onnxruntime  not run",
    ]);
  });

  it("a skipped phase is one dim row with the reason, no warning colour", () => {
    const out: string[] = [];
    const live = new LiveView({ columns: () => 80, rows: () => 24, out: (t) => out.push(t), err: (t) => out.push(t) }, COLOURS);
    live.onEvent({ type: "phase-start", phase: "buildbase", title: "Build image (buildbase)" });
    live.onEvent({ type: "phase-end", phase: "buildbase", status: "skipped", durationMs: 0, detail: "nothing to compile" });
    expect(out.at(-1)).toBe("\u001b[2m- Build image (buildbase): skipped (nothing to compile)\u001b[22m\n");
  });

  it("the live part never grows taller than the screen: finished rows give way, waiting ones are counted", () => {
    const names = Array.from({ length: 30 }, (_, i) => `backend${i}`);
    const { terminal, live, feed } = view({ columns: 60, rows: 10 });
    feed([
      ...compiling(names),
      ...names.slice(0, 5).flatMap((name): BuildEvent[] => [
        { type: "component-start", name },
        { type: "component-end", name, status: "ok", durationMs: 10 },
      ]),
      { type: "component-start", name: "backend5" },
    ]);
    const screen = terminal.screen;
    expect(screen.length).toBeLessThanOrEqual(8);
    expect(screen.some((row) => /backend5 {2}0ms/.test(row))).toBe(true);
    expect(screen.at(-1)).toMatch(/^ {4}· \d+ more waiting$/);
    live.end();
    // When the phase ends, every component's row is written for good.
    expect(terminal.screen.filter((row) => /backend\d+/.test(row))).toHaveLength(30);
  });

  it("warnings and notes come out in the order they happen, above the live part", () => {
    const { terminal, live, feed } = view();
    feed([
      { type: "info", message: "2 parallel job(s), limited by 2 cores" },
      { type: "phase-start", phase: "source", title: "Source checkout" },
      { type: "warning", message: "retrying the fetch" },
      { type: "phase-end", phase: "source", status: "ok", durationMs: 1200 },
    ]);
    live.end();
    expect(terminal.screen).toEqual(["2 parallel job(s), limited by 2 cores", "warning: retrying the fetch", "✔ Source checkout  1.2s"]);
  });

  it("a warning or notice longer than the terminal is written whole (its end is often the fix), rows are cut", () => {
    const { terminal, live, feed } = view({ columns: 40, rows: 20 });
    const warning = "cache keys need the component repositories: pass --github-organization URL (where they are mirrored)";
    feed([
      { type: "phase-start", phase: "source", title: "Source checkout of a server repository with a long name" },
      { type: "warning", message: warning },
    ]);
    live.notice("SIGINT: stopping; removing this run's container (press Ctrl-C again to quit at once)");
    feed([{ type: "phase-end", phase: "source", status: "ok", durationMs: 1200 }]);
    live.end();
    const screen = terminal.screen.join("\n");
    expect(screen).toContain(`warning: ${warning}`);
    expect(screen).toContain("(press Ctrl-C again to quit at once)");
    const phaseRow = terminal.screen.find((row) => row.includes("Source checkout")) ?? "";
    expect(visibleWidth(phaseRow)).toBeLessThanOrEqual(39);
  });

  it("a whole message still cannot move the cursor: carriage returns, bells and backspaces are dropped", () => {
    const out: string[] = [];
    const live = new LiveView({ columns: () => 40, rows: () => 24, out: (t) => out.push(t), err: (t) => out.push(t) }, NO_COLOURS);
    live.onEvent({ type: "warning", message: "cannot read source: x\rFAKE\u0007\bY" });
    const written = out.join("").replace(/\u001b\[\d*F\u001b\[J/g, "");
    expect(written).toBe("warning: cannot read source: xFAKEY\n");
  });

  it("plain colours: no escape codes at all", () => {
    const out: string[] = [];
    const live = new LiveView({ columns: () => 80, rows: () => 24, out: (t) => out.push(t), err: (t) => out.push(t) }, NO_COLOURS);
    live.onEvent({ type: "phase-start", phase: "tag", title: "Tag" });
    live.onEvent({ type: "phase-end", phase: "tag", status: "ok", durationMs: 5 });
    expect(out.join("").replace(/\u001b\[\d*F\u001b\[J/g, "")).not.toContain("\u001b");
  });
});
