import { describe, expect, it } from "vitest";
import type { RunResult } from "../run/events.js";
import { formatSummary } from "./summary.js";
import { cutToWidth, visibleWidth } from "./terminal-text.js";

const RESULT: RunResult = {
  status: "ok",
  durationMs: 13_200,
  image: { tag: "tritonserver:24.05-small", id: "sha256:0123456789abcdef0123", sizeBytes: 1_234_000_000 },
  components: [
    { name: "core", kind: "core", outcome: "built", durationMs: 62_000, logPath: "/w/logs/core.log" },
    { name: "python", kind: "backend", outcome: "restored", source: "local", durationMs: 30, savedMs: 5000 },
    { name: "onnxruntime", kind: "backend", outcome: "restored", source: "remote", durationMs: 1100, savedMs: 3_720_000 },
    { name: "ci", kind: "ci", outcome: "skipped", reason: "CI artifacts are built only with --ci-image" },
  ],
  hits: 2,
  misses: 1,
  hitRatio: 2 / 3,
  savedMs: 3_725_000,
  skippedPhases: [],
  logDir: "/w/logs",
};

describe("the closing summary", () => {
  it("image with id and size, time and time saved, the cache's share, one row per component, the logs", () => {
    expect(formatSummary(RESULT)).toEqual([
      "Image       tritonserver:24.05-small  0123456789ab, 1.2 GB",
      "Time        13.2s, 1h02m saved",
      "Cache       2 of 3 component(s) restored, 67% hit ratio",
      "Components  core         built                   1m02s",
      "            python       restored  local cache   30ms   saved 5.0s",
      "            onnxruntime  restored  remote cache  1.1s   saved 1h02m",
      "            ci           skipped   CI artifacts are built only with --ci-image",
      "Logs        /w/logs",
    ]);
  });

  it("a fully cached run counts the phases it did not need, with what they cost when they last ran", () => {
    const lines = formatSummary({
      ...RESULT,
      skippedPhases: [
        { phase: "buildbase", reason: "nothing to compile", savedMs: 70_000 },
        { phase: "collect", reason: "nothing to compile" },
      ],
    });
    expect(lines).toContain("Not needed  Build image (buildbase), about 1m10s saved");
    expect(lines).toContain("            Collect install tree and cache it");
  });

  it("a failed run says so and in which component; on a terminal rows are cut, the log dir never", () => {
    const logDir = `/very/long/${"x".repeat(80)}/logs`;
    const { image: _, ...withoutImage } = RESULT;
    const lines = formatSummary({ ...withoutImage, status: "failed", failedComponent: "core", logDir }, undefined, 40);
    expect(lines[0]).toBe("Result      failed in core");
    expect(lines.filter((l) => visibleWidth(l) > 40)).toEqual([`Logs        ${logDir}`]);
  });
});

describe("cutting to the terminal width", () => {
  it("keeps escape codes whole, counts wide characters twice, drops cursor-moving controls", () => {
    expect(cutToWidth("\u001b[2mabcdefghij\u001b[22m", 6)).toBe("\u001b[2mabcde…\u001b[0m");
    expect(visibleWidth(cutToWidth("日本語のテキスト", 7))).toBeLessThanOrEqual(7);
    expect(cutToWidth("50%\rdone\b!", 20)).toBe("50%done!");
    expect(cutToWidth("a\tb", 10)).toBe("a  b");
  });
});
