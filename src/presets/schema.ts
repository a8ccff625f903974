import { z } from "zod";
import {
  cmakeNameProblem,
  cmakeValueProblem,
  computeCapabilityProblem,
  gitRefProblem,
  presetBuildpyArgProblem,
  repositoryUrlProblem,
  showValue,
} from "./values.js";

/**
 * One schema for preset files. Every key documents itself (`describe`) and says its default;
 * `presets show --schema` prints these descriptions. Names are checked against the release
 * data in `validate.ts`, because which backends exist depends on the release.
 */

const componentName = z
  .string()
  .regex(/^[a-z0-9_][a-z0-9_-]*$/, "a lower-case component name such as onnxruntime")
  .describe("component name as build.py spells it");

/**
 * A string the value check `problem` accepts (values.ts: what git, URLs and CMake accept, with no
 * shell metacharacter); otherwise an issue at the value's line that shows the value.
 */
function checkedString(problem: (value: string) => string | undefined, what = "") {
  return z.string().superRefine((value, ctx) => {
    const found = problem(value);
    if (found) ctx.addIssue({ code: "custom", message: `${what}${showValue(value)} ${found}` });
  });
}

const gitRef = checkedString(gitRefProblem);

/** `onnxruntime`, `tensorrtllm:v0.9.0`, or `{name: tensorrtllm, tag: v0.9.0}`. */
export const componentRefSchema = z.union([
  z
    .string()
    .regex(/^[a-z0-9_][a-z0-9_-]*(:.*)?$/s, "NAME or NAME:TAG, e.g. onnxruntime or tensorrtllm:v0.9.0")
    .superRefine((value, ctx) => {
      const colon = value.indexOf(":");
      const tag = colon < 0 ? undefined : value.slice(colon + 1);
      const found = tag === undefined ? undefined : gitRefProblem(tag);
      if (tag !== undefined && found) ctx.addIssue({ code: "custom", message: `tag ${showValue(tag)} ${found}` });
    }),
  z
    .strictObject({
      name: componentName,
      tag: gitRef.optional().describe("git branch or tag of the component's repo; default: the release's"),
    })
    .describe("a component with an optional tag"),
]);

export const imageRecipeSchema = z
  .strictObject({
    repo: checkedString(repositoryUrlProblem).describe("git URL of the repository holding the Dockerfile"),
    ref: gitRef.describe("branch, tag or commit of that repository"),
    dockerfile: checkedString(pathInRepositoryProblem).describe("path of the Dockerfile inside the repository"),
    context: checkedString(pathInRepositoryProblem).default(".").describe("build context inside the repository; default the repository root"),
    target: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "a build stage name: letters, digits, . _ -")
      .optional()
      .describe("multi-stage target (docker build --target); default the last stage"),
    buildArgs: z.record(z.string(), z.string()).default({}).describe("docker build --build-arg NAME=VALUE pairs"),
    submodules: z.boolean().default(false).describe("check out git submodules before building"),
    lfs: z.boolean().default(false).describe("the repository needs Git LFS files (git lfs pull) before building"),
  })
  .describe("build the image from a Dockerfile in a git repository");

export const imageSpecSchema = z.union([
  z.string().min(1).describe("an image reference, e.g. nvcr.io/nvidia/tritonserver:24.05-py3-min"),
  z.strictObject({ image: z.string().min(1).describe("an image reference") }),
  z.strictObject({ recipe: imageRecipeSchema }),
]);

/** YAML reads 1 and true as a number and a boolean; CMake's -DNAME=VALUE takes them as text. */
const cmakeValue = z
  .union([z.string(), z.number(), z.boolean()])
  .transform(String)
  .superRefine((value, ctx) => {
    const found = cmakeValueProblem(value);
    if (found) ctx.addIssue({ code: "custom", message: `${showValue(value)} ${found}` });
  })
  .describe('a CMake value; numbers and booleans are passed as written (1, true); no $ ` " \\');

const cmakeName = checkedString(cmakeNameProblem);

/**
 * The -D values that name what gets cloned (the organisation and the repo tags) reach git, on this
 * machine too (cache keys resolve them with `git ls-remote`): held to the rules of every
 * repository URL and git ref, as --github-organization and backend tags are.
 */
function cloneDefineProblem(name: string, value: string): string | undefined {
  if (name === "TRITON_REPO_ORGANIZATION") return repositoryUrlProblem(value);
  if (/^TRITON_\w+_REPO_TAG$/.test(name)) return gitRefProblem(value);
  return undefined;
}

const cmakeDefines = z.record(cmakeName, cmakeValue).superRefine((defines, ctx) => {
  for (const [name, value] of Object.entries(defines)) {
    const found = cloneDefineProblem(name, value);
    if (found) ctx.addIssue({ code: "custom", path: [name], message: `${showValue(value)} ${found}` });
  }
});

const cmakeArgsSchema = z.strictObject({
  extra: cmakeDefines.default({}).describe("added -DNAME=VALUE arguments"),
  override: cmakeDefines.default({}).describe("replace build.py's value for -DNAME"),
});

/** A path inside a checked-out repository: relative, and never out of it. */
function pathInRepositoryProblem(value: string): string | undefined {
  if (value === "") return "is empty";
  if (value.startsWith("/") || value.split("/").includes("..")) return "is not a path inside the repository (no leading '/', no '..')";
  return /^[A-Za-z0-9._/+@%,=-]+$/.test(value) ? undefined : "contains characters other than letters, digits and . _ - / + @ % , =";
}

export const presetFileSchema = z
  .strictObject({
    name: z.string().optional().describe("preset name; default: the file name without .yaml"),
    aliases: z.array(z.string()).default([]).describe("other names that select this preset"),
    description: z.string().default("").describe("one line shown by `presets list`"),
    extends: z.string().optional().describe("a preset name, or a path relative to this file, whose settings this one starts from"),
    release: z.string().optional().describe("Triton release, e.g. 24.05; fixes the server ref and default component tags"),
    features: z
      .array(z.string())
      .optional()
      .describe("build.py --enable-* features: gpu, logging, stats, metrics, gpu-metrics, cpu-metrics, tracing, nvtx, mali-gpu"),
    endpoints: z.array(z.string()).optional().describe("build.py --endpoint values: http, grpc, sagemaker, vertex-ai"),
    filesystems: z.array(z.string()).optional().describe("build.py --filesystem values: gcs, s3, azure_storage"),
    backends: z.array(componentRefSchema).optional().describe("backends to build (build.py --backend)"),
    repoAgents: z.array(componentRefSchema).optional().describe("repository agents (build.py --repoagent)"),
    responseCaches: z.array(componentRefSchema).optional().describe("Triton response caches (build.py --cache), not the build cache"),
    without: z.array(z.string()).default([]).describe("components inherited through `extends` to leave out"),
    images: z
      .record(z.string(), imageSpecSchema)
      .optional()
      .describe("build.py images (base, gpu-base, pytorch, tensorflow) and published images for compose (py3, py3-min, trtllm, vllm)"),
    repoTags: z.record(z.string(), gitRef).optional().describe("build.py --repo-tag per component: common, core, backend, thirdparty"),
    cmakeArgs: z
      .strictObject({
        core: cmakeArgsSchema.optional(),
        backends: z.record(z.string(), cmakeArgsSchema).optional(),
      })
      .optional()
      .describe("extra and overriding CMake arguments for core and per backend"),
    buildType: z.enum(["Release", "Debug", "RelWithDebInfo", "MinSizeRel"]).optional().describe("CMake build type; default Release"),
    minComputeCapability: checkedString(computeCapabilityProblem).optional().describe("build.py --min-compute-capability; default 6.0"),
    githubOrganization: checkedString(repositoryUrlProblem)
      .optional()
      .describe("where build.py clones components from; default the public GitHub organisation"),
    buildpyArgs: z
      .array(checkedString(presetBuildpyArgProblem))
      .optional()
      .describe("extra build.py arguments passed through unchanged; no shell metacharacters (the command line's --buildpy-arg takes any)"),
  })
  .describe("a triton-build preset");

export type PresetFile = z.infer<typeof presetFileSchema>;
export type ComponentRefInput = z.infer<typeof componentRefSchema>;
export type ImageRecipe = z.infer<typeof imageRecipeSchema>;
export type ImageSpecInput = z.infer<typeof imageSpecSchema>;
export type CmakeArgs = z.infer<typeof cmakeArgsSchema>;
