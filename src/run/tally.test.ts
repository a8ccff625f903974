import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { BuildEvent } from "./events.js";
import { RunTally } from "./tally.js";

describe("RunTally.builderOverheadMs", () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date("2026-12-03T12:00:00Z") }));
  afterEach(() => vi.useRealTimers());

  /** Components that compile at the given seconds into a builder phase of `phaseS` seconds. */
  function tallyOf(phaseS: number, spans: Array<[string, number, number]>): RunTally {
    const tally = new RunTally(() => undefined);
    const at: Array<[number, BuildEvent]> = [];
    for (const [name, start, end] of spans) {
      at.push([start, { type: "component-start", name, engine: "default", builder: 1 }]);
      at.push([end, { type: "component-end", name, status: "ok", durationMs: (end - start) * 1000, logPath: `/logs/${name}.log` }]);
    }
    const t0 = Date.now();
    for (const [seconds, event] of at.sort((a, b) => a[0] - b[0])) {
      vi.setSystemTime(t0 + seconds * 1000);
      tally.emit(event);
    }
    tally.emit({ type: "phase-end", phase: "builder", status: "ok", durationMs: phaseS * 1000 });
    return tally;
  }

  it("components one after another: the phase less their durations", () => {
    expect(
      tallyOf(10, [
        ["core", 1, 4],
        ["python", 4, 8],
      ]).builderOverheadMs(),
    ).toBe(3000);
  });

  it("components side by side: the phase less the time some component compiled, not less the sum", () => {
    // core 1-8 s and python 2-9 s overlap: 8 s of compiling in a 10 s phase (their sum, 14 s, would say 0).
    expect(
      tallyOf(10, [
        ["core", 1, 8],
        ["python", 2, 9],
        ["checksum", 3, 4],
      ]).builderOverheadMs(),
    ).toBe(2000);
  });

  it("no builder phase: nothing to say", () => {
    expect(new RunTally(() => undefined).builderOverheadMs()).toBeUndefined();
  });
});
