import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import { addBuildOptions } from "./common-options.js";
import { newRunId, resolveBuildSettings, SettingsReader } from "./settings.js";

function reader(args: string[], env: NodeJS.ProcessEnv = {}, config: Record<string, string | number> = {}) {
  const command = addBuildOptions(new Command("build")).exitOverride();
  command.parse(args, { from: "user" });
  return new SettingsReader(command, env, config);
}

describe("settings precedence: flag > env > config > preset > default", () => {
  it("source", () => {
    const config = { source: "/from/config" };
    const env = { TRITON_BUILD_SOURCE: "/from/env" };
    expect(reader(["--source", "/from/flag"], env, config).string("source", { config: "source" })).toBe("/from/flag");
    expect(reader([], env, config).string("source", { config: "source" })).toBe("/from/env");
    expect(reader([], {}, config).string("source", { config: "source" })).toBe("/from/config");
    expect(reader([], {}, {}).string("source", { config: "source", fallback: "default" })).toBe("default");
  });

  it("the tag: flag, env, else tritonserver:<release>-<preset>", async () => {
    const settings = await resolveBuildSettings(reader(["--preset", "trtllm-onnx"]));
    expect(settings.tag).toBe("tritonserver:24.05-trtllm-plus-onnx");
    expect(settings.ref).toBe("r24.05");
    expect(settings.sourceUrl).toBe("https://github.com/triton-inference-server/server");
    const fromEnv = await resolveBuildSettings(reader(["--preset", "full"], { TRITON_BUILD_TAG: "me/triton:x", TRITON_BUILD_REF: "v2.46.0" }));
    expect(fromEnv.tag).toBe("me/triton:x");
    expect(fromEnv.ref).toBe("v2.46.0");
  });

  it("the preset itself can come from the environment", async () => {
    const settings = await resolveBuildSettings(reader([], { TRITON_BUILD_PRESET: "llm-plus-vision" }));
    expect(settings.preset.name).toBe("llm-plus-vision");
  });

  it("booleans: --no-pull and TRITON_BUILD_NO_PULL; --offline and TRITON_BUILD_OFFLINE=0", async () => {
    expect((await resolveBuildSettings(reader(["-p", "full", "--no-pull"]))).pull).toBe(false);
    expect((await resolveBuildSettings(reader(["-p", "full"], { TRITON_BUILD_NO_PULL: "1" }))).pull).toBe(false);
    expect((await resolveBuildSettings(reader(["-p", "full"]))).pull).toBe(true);
    expect((await resolveBuildSettings(reader(["-p", "full"], { TRITON_BUILD_OFFLINE: "0" }))).offline).toBe(false);
    expect((await resolveBuildSettings(reader(["-p", "full"], { TRITON_BUILD_OFFLINE: "yes" }))).offline).toBe(true);
    await expect(resolveBuildSettings(reader(["-p", "full"], { TRITON_BUILD_OFFLINE: "maybe" }))).rejects.toThrow(UsageError);
  });

  it("repeatable options from the environment are comma or space separated", async () => {
    const settings = await resolveBuildSettings(reader(["-p", "trtllm-onnx"], { TRITON_BUILD_BACKEND: "dali, pytorch", TRITON_BUILD_WITHOUT: "python" }));
    expect(settings.preset.backends.map((b) => b.name)).toEqual(["ensemble", "onnxruntime", "tensorrtllm", "dali", "pytorch"]);
  });

  it("job counts and choices are checked", () => {
    expect(reader(["--jobs", "4"]).jobs("jobs", "jobs")).toBe(4);
    expect(reader([], {}, { jobs: 3 }).jobs("jobs", "jobs")).toBe(3);
    expect(reader(["--jobs", "1024"]).jobs("jobs")).toBe(1024);
    expect(() => reader(["--jobs", "four"]).jobs("jobs")).toThrow(
      "--jobs: 'four' is not a positive decimal integer; expected a whole number of jobs from 1 to 1024",
    );
    expect(() => reader([], {}, { jobs: "x" }).jobs("jobs", "jobs")).toThrow("config jobs: 'x' is not a positive decimal integer");
    // Number() would take each of these: hexadecimal, exponent, out of range, zero, sign, spaces
    for (const raw of ["0x10", "1e3", "99999999999", "1025", "0", "-1", "+4", " 4", "4.0", "04"]) {
      expect(() => reader(["--jobs", raw]).jobs("jobs"), raw).toThrow(UsageError);
    }
    expect(() => reader([], { TRITON_BUILD_JOBS: "0x10" }).jobs("jobs")).toThrow("TRITON_BUILD_JOBS: '0x10' is not a positive decimal integer");
    expect(reader([], {}, { remoteCacheMode: "readwrite" }).choice("remoteCacheMode", ["read", "readwrite"], "read", "remoteCacheMode")).toBe("readwrite");
    expect(() => reader([], { TRITON_BUILD_REMOTE_CACHE_MODE: "write" }).choice("remoteCacheMode", ["read", "readwrite"], "read")).toThrow(
      "TRITON_BUILD_REMOTE_CACHE_MODE 'write': expected one of read, readwrite",
    );
  });

  it("a remote cache must be an image repository", async () => {
    const settings = await resolveBuildSettings(reader(["-p", "full", "--remote-cache", "127.0.0.1:5000/triton-cache"]));
    expect(settings.remoteCache).toBe("127.0.0.1:5000/triton-cache");
    await expect(resolveBuildSettings(reader(["-p", "full", "--remote-cache", "Registry/Cache:v1"]))).rejects.toThrow(
      "--remote-cache 'Registry/Cache:v1': not an image repository",
    );
  });

  it("the remote cache stall limit: flag > env > config > 60 s, whole seconds only", async () => {
    expect((await resolveBuildSettings(reader(["-p", "full"]))).remoteCacheStallTimeout).toBe(60);
    expect((await resolveBuildSettings(reader(["-p", "full"], {}, { remoteCacheStallTimeout: 30 }))).remoteCacheStallTimeout).toBe(30);
    const env = { TRITON_BUILD_REMOTE_CACHE_STALL_TIMEOUT: "20" };
    expect((await resolveBuildSettings(reader(["-p", "full"], env, { remoteCacheStallTimeout: 30 }))).remoteCacheStallTimeout).toBe(20);
    expect((await resolveBuildSettings(reader(["-p", "full", "--remote-cache-stall-timeout", "5"], env))).remoteCacheStallTimeout).toBe(5);
    await expect(resolveBuildSettings(reader(["-p", "full", "--remote-cache-stall-timeout", "1.5"]))).rejects.toThrow(UsageError);
    await expect(resolveBuildSettings(reader(["-p", "full"], { TRITON_BUILD_REMOTE_CACHE_STALL_TIMEOUT: "0" }))).rejects.toThrow(
      /^TRITON_BUILD_REMOTE_CACHE_STALL_TIMEOUT: .*expected a whole number of seconds from 1 to 1024$/,
    );
  });

  it("a work dir per run unless one is given; run ids are unique and lower-case", async () => {
    const a = await resolveBuildSettings(reader(["-p", "full"], {}, { workRoot: "/runs" }));
    const b = await resolveBuildSettings(reader(["-p", "full"], {}, { workRoot: "/runs" }));
    expect(a.workDir.startsWith("/runs/")).toBe(true);
    expect(a.workDir).not.toBe(b.workDir);
    expect((await resolveBuildSettings(reader(["-p", "full", "--work-dir", "/w"]))).workDir).toBe("/w");
    expect(newRunId("Trtllm Plus ONNX", new Date("2026-01-02T03:04:05Z"))).toMatch(/^20260102-030405-trtllm-plus-onnx-[0-9a-f]{6}$/);
  });
});
