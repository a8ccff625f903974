import { describe, expect, it } from "vitest";
import { limiter, runLimited } from "./limited.js";

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("runLimited", () => {
  it("runs at most `concurrency` tasks at once and keeps the results in order", async () => {
    let active = 0;
    let peak = 0;
    const results = await runLimited(
      Array.from({ length: 10 }, (_, index) => async () => {
        active++;
        peak = Math.max(peak, active);
        await tick(index % 3);
        active--;
        return index;
      }),
      { concurrency: 3 },
    );
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peak).toBe(3);
  });

  it("throws the first failure once every started task has ended, aborting them and starting no more", async () => {
    const ended: number[] = [];
    const started: number[] = [];
    const run = runLimited(
      Array.from({ length: 6 }, (_, index) => async (signal: AbortSignal) => {
        started.push(index);
        if (index === 1) throw new Error("task 1 failed");
        await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        ended.push(index);
      }),
      { concurrency: 2 },
    );
    await expect(run).rejects.toThrow("task 1 failed");
    expect(started).toEqual([0, 1]);
    expect(ended).toEqual([0]);
  });

  it("an outer abort is what it throws", async () => {
    const controller = new AbortController();
    const run = runLimited([(signal: AbortSignal) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("inner"))))], {
      concurrency: 1,
      signal: controller.signal,
    });
    controller.abort(new Error("Ctrl-C"));
    await expect(run).rejects.toThrow("Ctrl-C");
  });
});

describe("limiter", () => {
  it("lets at most `max` calls run at once, from anywhere", async () => {
    const gate = limiter(2);
    let active = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 7 }, () =>
        gate(async () => {
          active++;
          peak = Math.max(peak, active);
          await tick(1);
          active--;
        }),
      ),
    );
    expect(peak).toBe(2);
  });
});
