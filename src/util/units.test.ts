import { describe, expect, it } from "vitest";
import { parseDuration, parseSize } from "./units.js";

describe("units", () => {
  it("sizes", () => {
    expect(parseSize("200GB")).toBe(200e9);
    expect(parseSize("1.5 TB")).toBe(1.5e12);
    expect(parseSize("512MiB")).toBe(512 * 2 ** 20);
    expect(parseSize("1000")).toBe(1000);
    expect(parseSize("lots")).toBeUndefined();
  });
  it("durations", () => {
    expect(parseDuration("30d")).toBe(30 * 86400_000);
    expect(parseDuration("12h")).toBe(12 * 3600_000);
    expect(parseDuration("2w")).toBe(14 * 86400_000);
    expect(parseDuration("soon")).toBeUndefined();
  });
});
