import { describe, expect, it } from "vitest";
import { BuilderSlots, defaultBuilders, handOutOrder, jobShare, jobWeight } from "./schedule.js";

const GB = 2 ** 30;

describe("defaultBuilders", () => {
  it("one per component when cores and memory allow, two per core at most", () => {
    expect(defaultBuilders({ name: "default", cpus: 2, memoryBytes: 24 * GB }, 4, false)).toMatchObject({ builders: 4 });
    expect(defaultBuilders({ name: "default", cpus: 2, memoryBytes: 24 * GB }, 9, false).builders).toBe(4);
    expect(defaultBuilders({ name: "big", cpus: 64, memoryBytes: 256 * GB }, 9, false).builders).toBe(9);
  });

  it("memory bounds them: a builder runs at least one compile job, TensorRT-LLM's at 4 GB", () => {
    const small = defaultBuilders({ name: "laptop", cpus: 16, memoryBytes: 8 * GB }, 6, false);
    expect(small.builders).toBe(4);
    expect(small.reason).toBe("4 builder(s) at a time on engine laptop, limited by memory: 8 GiB at about 2 GB per builder; set --parallel to change");
    expect(defaultBuilders({ name: "laptop", cpus: 16, memoryBytes: 8 * GB }, 6, true).builders).toBe(2);
    expect(defaultBuilders({ name: "tiny", cpus: 1, memoryBytes: 1 * GB }, 6, true).builders).toBe(1);
  });
});

describe("handOutOrder", () => {
  const jobs = [
    { name: "core", heavy: false, estimateMs: 600_000 },
    { name: "python", heavy: false, estimateMs: 60_000 },
    { name: "onnxruntime", heavy: false },
    { name: "tensorrtllm", heavy: true, estimateMs: 10 },
    { name: "checksum", heavy: false, estimateMs: 5_000 },
  ];

  it("TensorRT-LLM first, then components never timed, then longest first by the recorded durations", () => {
    expect(handOutOrder(jobs, 4).map((j) => j.name)).toEqual(["tensorrtllm", "onnxruntime", "core", "python", "checksum"]);
  });

  it("keeps the plan's order with one builder", () => {
    expect(handOutOrder(jobs, 1).map((j) => j.name)).toEqual(["core", "python", "onnxruntime", "tensorrtllm", "checksum"]);
  });
});

describe("jobShare", () => {
  it("a component alone gets the whole budget, as with one builder", () => {
    expect(jobShare(16, jobWeight({ name: "core", heavy: false }), [])).toBe(16);
  });

  it("builders running together share it by weight, at least one job each", () => {
    const heavy = jobWeight({ name: "tensorrtllm", heavy: true });
    const core = jobWeight({ name: "core", heavy: false });
    const backend = jobWeight({ name: "python", heavy: false });
    expect(jobShare(16, heavy, [core, backend, backend])).toBe(10);
    expect(jobShare(16, core, [heavy, backend, backend])).toBe(2);
    expect(jobShare(2, backend, [core, backend, backend])).toBe(1);
    expect(jobShare(16, jobWeight({ name: "x", heavy: false, estimateMs: 3_000 }), [1_000])).toBe(12);
  });
});

describe("BuilderSlots", () => {
  it("spreads work over the engines, TensorRT-LLM to the one with the most memory", () => {
    const slots = new BuilderSlots([
      { name: "a", builders: 2, memoryBytes: 32 * GB },
      { name: "b", builders: 2, memoryBytes: 64 * GB },
    ]);
    expect(slots.take({ heavy: true })).toEqual({ engine: "b", builder: 1 });
    expect(slots.take({ heavy: false })).toEqual({ engine: "a", builder: 1 });
    expect(slots.take({ heavy: false })).toEqual({ engine: "a", builder: 2 });
    expect(slots.take({ heavy: false })).toEqual({ engine: "b", builder: 2 });
    expect(slots.take({ heavy: false })).toBeUndefined();
    slots.release({ engine: "a", builder: 1 });
    expect(slots.freeOn("a")).toBe(1);
    expect(slots.take({ heavy: false })).toEqual({ engine: "a", builder: 1 });
  });

  it("a retired engine gets no more work", () => {
    const slots = new BuilderSlots([
      { name: "a", builders: 1, memoryBytes: GB },
      { name: "b", builders: 3, memoryBytes: GB },
    ]);
    slots.retire("b");
    expect(slots.liveEngines()).toEqual(["a"]);
    expect(slots.take({ heavy: true })).toEqual({ engine: "a", builder: 1 });
    expect(slots.take({ heavy: false })).toBeUndefined();
    expect(slots.freeOn("b")).toBe(0);
  });
});
