import { describe, expect, it } from "vitest";
import { architecturesFor, parseComputeCapabilities } from "../../gpu/nvidia-smi.js";
import { defaultJobs } from "./resources.js";

const GiB = 2 ** 30;

describe("defaultJobs", () => {
  it("is limited by cores or by memory, whichever is less", () => {
    expect(defaultJobs(2, 24 * GiB, true).jobs).toBe(2);
    expect(defaultJobs(64, 64 * GiB, true)).toMatchObject({ jobs: 16 });
    expect(defaultJobs(64, 64 * GiB, true).reason).toMatch(/limited by memory: 64 GiB at about 4 GB per job for nvcc/);
    expect(defaultJobs(64, 64 * GiB, false).jobs).toBe(32);
    expect(defaultJobs(8, 2 * GiB, true).jobs).toBe(1);
  });
});

describe("nvidia-smi output", () => {
  it("turns compute capabilities into CUDA architectures", () => {
    expect(parseComputeCapabilities("9.0\n8.6\n\nwarning: something\n")).toEqual(["9.0", "8.6"]);
    expect(architecturesFor(["9.0", "8.6", "9.0"])).toBe("86-real;90-real");
    expect(architecturesFor(["8.0"])).toBe("80-real");
  });
});
