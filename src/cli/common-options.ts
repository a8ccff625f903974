import { Option, type Command } from "commander";

/** The parser of a repeatable option (help.ts says "repeatable" for it). */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * Options shared by `build` and `plan`. Each also reads TRITON_BUILD_<NAME> (see settings.ts);
 * help.ts groups them and shows their defaults and variables: declare a new option's group there.
 */
export function addPlanOptions(command: Command): Command {
  return command
    .option("-p, --preset <name|path>", "built-in preset name or alias, or a preset file")
    .option("--source <url|path>", "server repository to build from: a git URL or a local path (mirrors, air-gapped sites)")
    .option("--ref <ref>", "branch, tag or commit of the server repository")
    .option("--backend <name[:tag]>", "add a backend or change its tag", collect)
    .option("--without <name>", "leave out a backend, repository agent, response cache or feature of the preset", collect)
    .option(
      "--image <name=image>",
      "use this image for a build.py image (base, gpu-base, pytorch, tensorflow) or a published image (py3, trtllm, vllm)",
      collect,
    )
    .option(
      "--buildpy-arg <arg>",
      "pass an argument to build.py unchanged and unchecked, e.g. --buildpy-arg=--build-type=Debug; a raw pass-through that reaches build.py's script, so treat it as code",
      collect,
    )
    .option("--github-organization <url>", "where build.py clones components from (a mirror of github.com/triton-inference-server)")
    .addOption(
      new Option("--strategy <strategy>", "build: compile with build.py; compose: copy backends between published images").choices(["build", "compose"]),
    )
    .option("--ci-image", "keep build.py's CI artifacts section and build its cibase image")
    .option("--cuda-arch <list|auto>", "CUDA architectures for TensorRT-LLM, e.g. 90-real or '80-real;90-real'; auto reads the host's GPUs")
    .option("-j, --jobs <n>", "parallel compile jobs, 1 to 1024 (build.py -j and TensorRT-LLM's --job_count)")
    .option("--python <exe>", "Python 3 interpreter with `requests` that runs build.py")
    .option("--cache-dir <dir>", "component cache and git mirrors")
    .option("--no-cache", "neither read nor write the component cache")
    .option("--remote-cache <registry/repo>", "shared component cache in an OCI registry, e.g. registry.example.com/triton-cache")
    .addOption(new Option("--remote-cache-mode <mode>", "read: pull only (untrusted jobs); readwrite: also push").choices(["read", "readwrite"]))
    .option("--remote-cache-stall-timeout <seconds>", "seconds without progress after which a registry transfer is abandoned")
    .option("--no-pull", "do not pull base images (local or air-gapped images)")
    .option("--offline", "use the git mirror as it is; do not fetch")
    .option("--json", "machine-readable output on stdout (NDJSON events for build, one JSON object for plan)")
    .option("-v, --verbose", "show more detail, and stack traces of unexpected errors");
}

export function addBuildOptions(command: Command): Command {
  return addPlanOptions(command)
    .option("-t, --tag <image:tag>", "tag of the final image")
    .option("--work-dir <dir>", "this run's directory: checkout, logs/<component>.log, install tree")
    .option("--dry-run", "show the plan (what `triton-build plan` shows) and build nothing")
    .option("-q, --quiet", "print only warnings, errors and the closing summary")
    .option("--report <file>", "write a JSON summary of the run to this file")
    .option("--keep-work-dir", "keep the checkout and install tree after a successful run (logs are always kept)")
    .option("--parallel <n>", "builders compiling at once on each engine; 1: one component after another")
    .option("--engine <context>", "Docker engine to build on, a `docker context` name; several spread the work, the first builds the final image", collect)
    .option("--fail-fast", "stop the other builders when a component fails; without it they finish and are cached")
    .option("--only <component>", "compile and cache only this component, build no image: CI fan-out, see `plan --json` fanOut", collect)
    .option("--cached-only", "build the image from the cache alone; fail (exit 1) naming each component that is not there")
    .option("--trace <file>", "write the run's timeline as Chrome trace-event JSON (open in Perfetto or chrome://tracing)")
    .option("--allow-missing-libs", "compose: do not fail when a backend's main library has unresolved dependencies");
}
