import { z } from "zod";

/**
 * Facts about one Triton release (`presets/releases/<release>.yaml`): what build.py at that
 * release accepts and which published images hold which components. The YAML cites a public
 * source for each fact.
 */

const nameList = z.array(z.string().min(1));

const backendFactsSchema = z.strictObject({
  build: z
    .enum(["cmake", "clone", "core"])
    .default("cmake")
    .describe("cmake: its own section; clone: section that only clones (vllm); core: built inside core (ensemble)"),
  requires: nameList.default([]).describe("backends build.py adds automatically"),
  special: z.boolean().default(false).describe("only published in a dedicated image (tensorrtllm, vllm)"),
});

const publishedImageSchema = z.strictObject({
  image: z.string().min(1).describe("image reference"),
  backends: nameList.default([]),
  repoAgents: nameList.default([]),
  responseCaches: nameList.default([]),
  baseFor: z.string().optional().describe("the special backend this image is the compose base for"),
});

export const releaseFileSchema = z.strictObject({
  release: z.string().describe("container version, e.g. 24.05"),
  tritonVersion: z.string().describe("TRITON_VERSION of the server repo at this release"),
  serverRef: z.string().describe("branch of triton-inference-server/server for this release"),
  serverRepo: z.string().describe("default server repository URL"),
  githubOrganization: z.string().describe("build.py's default --github-organization"),
  defaultComponentTag: z.string().describe("tag build.py uses for components without one"),
  versions: z.record(z.string(), z.string()).describe("versions of bundled software, for reports"),
  buildpy: z.strictObject({
    backends: z.record(z.string(), backendFactsSchema),
    repoAgents: nameList,
    responseCaches: nameList,
    endpoints: nameList,
    filesystems: nameList,
    features: nameList,
    images: nameList.describe("names build.py's --image accepts"),
    enableAll: z.strictObject({
      backends: nameList,
      repoAgents: nameList,
      responseCaches: nameList,
      endpoints: nameList,
      filesystems: nameList,
      features: nameList,
    }),
  }),
  publishedImages: z.record(z.string(), publishedImageSchema),
});

export type ReleaseData = z.infer<typeof releaseFileSchema>;
