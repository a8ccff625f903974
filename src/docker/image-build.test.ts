import { describe, expect, it } from "vitest";
import { buildImageArgs, parseBuildStep } from "./image-build.js";

// Captured from `docker build` on the engine the tests use (classic builder, Docker 20.10) and
// from a BuildKit build.
const CLASSIC = `DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
Sending build context to Docker daemon  2.048kB
Step 1/3 : FROM tb-test:base
 ---> aa2c705bc1d3
Step 2/3 : RUN echo hi
 ---> Running in 407fb1e43717
hi
Removing intermediate container 407fb1e43717
 ---> 6bac096abc96
Step 3/3 : RUN ls /`;

const BUILDKIT = `#0 building with "default" instance using docker driver
#1 [internal] load build definition from Dockerfile
#5 [base 2/4] RUN apt-get update
#6 [3/4] COPY . .
#6 DONE 0.1s`;

describe("parseBuildStep", () => {
  it("reads the classic builder's steps and ignores other lines", () => {
    const steps = CLASSIC.split("\n").map(parseBuildStep).filter(Boolean);
    expect(steps).toEqual([
      { current: 1, total: 3 },
      { current: 2, total: 3 },
      { current: 3, total: 3 },
    ]);
  });

  it("reads BuildKit's steps, with or without a stage name", () => {
    expect(BUILDKIT.split("\n").map(parseBuildStep).filter(Boolean)).toEqual([
      { current: 2, total: 4 },
      { current: 3, total: 4 },
    ]);
  });
});

describe("buildImageArgs", () => {
  it("puts the context last and passes pull, args, labels and target", () => {
    expect(
      buildImageArgs(
        { contextDir: "/ctx", dockerfile: "/ctx/Dockerfile", tag: "a:b", pull: true, buildArgs: { X: "1" }, labels: { l: "v" }, target: "base" },
        "/tmp/iid",
      ),
    ).toEqual([
      "build",
      "-t",
      "a:b",
      "-f",
      "/ctx/Dockerfile",
      "--iidfile",
      "/tmp/iid",
      "--pull",
      "--build-arg",
      "X=1",
      "--label",
      "l=v",
      "--target",
      "base",
      "/ctx",
    ]);
  });
});
