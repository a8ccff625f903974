import { describe, expect, it } from "vitest";
import { findCloneSource, parseCmakeBuild, parseCmakeDefines, parseSectionTitle } from "./cmake-build.js";
import { parseDockerBuild } from "./docker-build.js";

// Hand-written in the r24.05 section format (frames, titles, clone and cmake lines), with toy content.
const SCRIPT = `#!/usr/bin/env bash

# 
# Build script for Triton Inference Server
# 

# Exit script immediately if any command fails
set -e

echo prebuild

########
# Triton core library and tritonserver executable
# 
mkdir -p /tmp/tritonbuild/tritonserver/build
cmake "-DTRITON_CORE_REPO_TAG:STRING=r24.05" "-DTRITON_COMMON_REPO_TAG:STRING=main" "-DCMAKE_BUILD_TYPE=Release" /workspace
cmake --build . --config Release -j8  -t install
# 
# end Triton core library and tritonserver executable
########

########
# 'onnxruntime' backend
# Delete this section to remove backend from build
# 
cd /tmp/tritonbuild
if [[ ! -e onnxruntime ]]; then
  git clone --recursive --single-branch --depth=1 -b r24.05 https://example.org/org/onnxruntime_backend.git onnxruntime;
fi
# 
# end 'onnxruntime' backend
########

########
# 'python' backend
# Delete this section to remove backend from build
# 
if [[ ! -e python ]]; then
  git clone --recursive --depth=1 https://example.org/org/python_backend.git python;
fi
cd python
git fetch origin pull/42/head:tritonbuildref
# 
# end 'python' backend
########

########
# 'checksum' repository agent
# Delete this section to remove repository agent from build
# 
  git clone --recursive --single-branch --depth=1 -b main file:///srv/org/checksum_repository_agent.git checksum;
# 
# end 'checksum' repository agent
########

########
# 'local' cache
# Delete this section to remove cache from build
# 
  git clone --recursive --single-branch --depth=1 -b r24.05 file:///srv/org/local_cache.git local;
# 
# end 'local' cache
########

########
# Collect Triton CI artifacts
# 
mkdir -p /tmp/tritonbuild/ci
# 
# end Triton CI artifacts
########

chmod -R a+rw /tmp/tritonbuild/install
`;

describe("parseCmakeBuild", () => {
  const script = parseCmakeBuild(SCRIPT);

  it("finds every section with its kind, name and tag", () => {
    expect(script.sections.map((s) => [s.name, s.kind, s.tag ?? null, s.repoUrl ?? null])).toEqual([
      ["core", "core", "r24.05", null],
      ["onnxruntime", "backend", "r24.05", "https://example.org/org/onnxruntime_backend.git"],
      ["python", "backend", "pull/42/head", "https://example.org/org/python_backend.git"],
      ["checksum", "repoagent", "main", "file:///srv/org/checksum_repository_agent.git"],
      ["local", "cache", "r24.05", "file:///srv/org/local_cache.git"],
      ["ci", "ci", null, null],
    ]);
  });

  it("keeps every line: the chunks joined give the script back", () => {
    const joined = script.chunks.flatMap((c) => (c.type === "lines" ? c.lines : c.section.lines)).join("\n");
    expect(joined).toBe(SCRIPT);
  });

  it("keeps lines outside sections (pre-build command, chmod) as loose chunks", () => {
    const loose = script.chunks.filter((c) => c.type === "lines").flatMap((c) => (c.type === "lines" ? c.lines : []));
    expect(loose).toContain("echo prebuild");
    expect(loose).toContain("chmod -R a+rw /tmp/tritonbuild/install");
  });

  it("an unterminated section is left as plain lines rather than guessed", () => {
    const broken = parseCmakeBuild("set -e\n########\n# 'x' backend\n# \necho x\n");
    expect(broken.sections).toEqual([]);
  });

  it("tolerates CRLF line ends", () => {
    expect(parseCmakeBuild(SCRIPT.replace(/\n/g, "\r\n")).sections).toHaveLength(6);
  });
});

describe("section helpers", () => {
  it("parseSectionTitle recognises only frame titles", () => {
    expect(parseSectionTitle("# 'dali' backend")).toEqual({ name: "dali", kind: "backend", endTitle: "end 'dali' backend" });
    expect(parseSectionTitle("# 'redis' cache")?.kind).toBe("cache");
    expect(parseSectionTitle("# Delete this section to remove backend from build")).toBeUndefined();
    expect(parseSectionTitle("echo '# x' backend")).toBeUndefined();
  });

  it("parseCmakeDefines reads -D arguments of configure lines only", () => {
    expect(parseCmakeDefines([`cmake "-DA:STRING=1" "-DB=two" -DC:BOOL=ON ..`, `cmake --build . --config Release -j8 -t install -DNOT=this`])).toEqual({
      A: "1",
      B: "two",
      C: "ON",
    });
  });

  it("findCloneSource is empty for sections that clone nothing", () => {
    expect(findCloneSource(["mkdir -p x"])).toEqual({});
  });
});

describe("parseDockerBuild", () => {
  it("classifies the r24.05 docker_build steps", () => {
    const steps = parseDockerBuild(`#!/usr/bin/env bash
set -e
cd /src/server
docker build -t tritonserver_buildbase -f /src/server/build/Dockerfile.buildbase --pull --cache-from=tritonserver_buildbase .
if [ "$(docker ps -a | grep tritonserver_builder)" ]; then  docker rm -f tritonserver_builder; fi
docker run -w /workspace/build --name tritonserver_builder -v /var/run/docker.sock:/var/run/docker.sock tritonserver_buildbase ./cmake_build
docker cp tritonserver_builder:/tmp/tritonbuild/install /src/server/build
docker build -t tritonserver -f /src/server/build/Dockerfile .
docker build -t tritonserver_cibase -f /src/server/build/Dockerfile.cibase .
`);
    expect(steps.map((s) => s.kind)).toEqual(["cd", "buildbase", "remove-builder", "run-builder", "copy-out", "final-image", "cibase-image"]);
    expect(steps[1]).toMatchObject({ dockerfile: "/src/server/build/Dockerfile.buildbase", tag: "tritonserver_buildbase" });
  });
});
