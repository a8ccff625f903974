import { formatComponentRef, type Preset } from "../presets/model.js";

export interface BuildpyArgvOptions {
  /** stdin is a terminal: build.py may pass `-it` to docker run. */
  interactive: boolean;
  /** `docker build --pull` (false with --no-pull, for local or air-gapped base images). */
  pull: boolean;
  /** Concrete references for build.py's images (a recipe has already become a tag by now). */
  imageRefs: Record<string, string>;
  /** build.py -j; absent: build.py's default (twice the CPU count). */
  jobs?: number;
  /** Overrides the preset's organisation (mirrors, air-gapped sites). */
  githubOrganization?: string;
}

/**
 * The build.py command line (without `python3 build.py`) for a preset. Pure: the same preset
 * and options always give the same argv, which is what `plan` prints and the tests pin.
 */
export function buildpyArgv(preset: Preset, options: BuildpyArgvOptions): string[] {
  const argv: string[] = [];
  if (!options.interactive) argv.push("--no-container-interactive");
  if (!options.pull) argv.push("--no-container-pull");
  if (preset.buildType) argv.push(`--build-type=${preset.buildType}`);
  if (options.jobs !== undefined) argv.push(`--build-parallel=${options.jobs}`);

  // Release order, not preset order, so equivalent presets give identical command lines.
  for (const feature of preset.release.buildpy.features) {
    if (preset.features.includes(feature)) argv.push(`--enable-${feature}`);
  }
  if (preset.minComputeCapability) argv.push(`--min-compute-capability=${preset.minComputeCapability}`);
  for (const endpoint of preset.endpoints) argv.push(`--endpoint=${endpoint}`);
  for (const filesystem of preset.filesystems) argv.push(`--filesystem=${filesystem}`);
  for (const backend of preset.backends) argv.push(`--backend=${formatComponentRef(backend)}`);
  for (const agent of preset.repoAgents) argv.push(`--repoagent=${formatComponentRef(agent)}`);
  for (const cache of preset.responseCaches) argv.push(`--cache=${formatComponentRef(cache)}`);
  for (const [component, tag] of Object.entries(preset.repoTags)) argv.push(`--repo-tag=${component}:${tag}`);

  for (const name of preset.release.buildpy.images) {
    const ref = options.imageRefs[name];
    if (ref) argv.push(`--image=${name},${ref}`);
  }

  const organization = options.githubOrganization ?? preset.githubOrganization;
  if (organization) argv.push(`--github-organization=${organization}`);

  for (const [name, value] of Object.entries(preset.cmakeArgs.core.extra)) argv.push(`--extra-core-cmake-arg=${name}=${value}`);
  for (const [name, value] of Object.entries(preset.cmakeArgs.core.override)) argv.push(`--override-core-cmake-arg=${name}=${value}`);
  for (const [backend, args] of Object.entries(preset.cmakeArgs.backends)) {
    for (const [name, value] of Object.entries(args.extra)) argv.push(`--extra-backend-cmake-arg=${backend}:${name}=${value}`);
    for (const [name, value] of Object.entries(args.override)) argv.push(`--override-backend-cmake-arg=${backend}:${name}=${value}`);
  }

  argv.push(...preset.buildpyArgs);
  return argv;
}

/** A command line a user can paste into a POSIX shell. */
export function shellQuote(args: readonly string[]): string {
  return args.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)).join(" ");
}
