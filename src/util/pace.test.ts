import { describe, expect, it } from "vitest";
import { eventLoopPacer } from "./pace.js";

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // synchronous work, as a loop of lstat and reads is
  }
}

describe("eventLoopPacer", () => {
  it("gives timers a turn during a long synchronous loop", async () => {
    let fired = 0;
    const timer = setInterval(() => fired++, 5);
    const pace = eventLoopPacer(10);
    for (let step = 0; step < 40; step++) {
      await pace();
      busy(5);
    }
    clearInterval(timer);
    expect(fired).toBeGreaterThan(3);
  });

  it("without it the same loop starves them (the control)", async () => {
    let fired = 0;
    const timer = setInterval(() => fired++, 5);
    for (let step = 0; step < 40; step++) {
      await Promise.resolve();
      busy(5);
    }
    clearInterval(timer);
    expect(fired).toBe(0);
  });

  it("costs no turn while the slice lasts", () => {
    const pace = eventLoopPacer(60_000);
    expect(pace()).toBeUndefined();
  });
});
