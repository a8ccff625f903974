import { shellQuote } from "../../../buildpy/argv.js";
import type { DockerEngine } from "../../../docker/engine.js";
import { BUILDBASE_REPOSITORY } from "../../../run/names.js";
import { keepNewestCacheTags } from "./cache-tags.js";

/**
 * Some r24.05 backends run Docker themselves, on the host's daemon through the socket the builder
 * mounts, under FIXED names (checked in each repository's r24.05 CMakeLists.txt):
 *
 * - onnxruntime_backend: image `tritonserver_onnxruntime` (--cache-from itself, `_cache0`,
 *   `_cache1`), container `onnxruntime_backend_ort`;
 * - openvino_backend: image `tritonserver_openvino` (same cache-from scheme), container
 *   `openvino_backend_ov`;
 * - pytorch_backend: container `pytorch_backend_ptlib` (of the pulled PyTorch image);
 * - tensorflow_backend: containers `tensorflow_backend_tflib` and `tensorflow_backend_deps`;
 * - fil_backend: image and container `triton_fil_builder`.
 *
 * Two runs on one daemon (or two builders of one run) would remove each other's containers and
 * copy each other's libraries. Their CMakeLists offer no option for these names (the image name is
 * a plain `set()`, which a -D cache entry cannot change; the container names are literals), so the
 * builder gets a `docker` command first on PATH that renames them for this run and component
 * before calling the real docker. The section text is not changed, so cache keys do not see it.
 *
 * Docker's layer cache still helps the next run: each `--cache-from=<fixed image>[_cacheN]`
 * becomes one shared tag per Dockerfile and arguments (`triton-build/<image>:cache-<hash>`), which
 * the wrapper points at the image it just built. The classic builder uses only cache-from images'
 * layers when given any; BuildKit also has its own cache.
 */
export const NESTED_IMAGES = ["tritonserver_onnxruntime", "tritonserver_openvino", "triton_fil_builder"] as const;
export const NESTED_CONTAINERS = [
  "onnxruntime_backend_ort",
  "openvino_backend_ov",
  "pytorch_backend_ptlib",
  "tensorflow_backend_tflib",
  "tensorflow_backend_deps",
  "triton_fil_builder",
] as const;

/** Where the wrapper goes in the builder container (a directory put first on PATH). */
export const NESTED_BIN_DIR = "/workspace/build/triton-build-bin";

/** The tag a fixed image name gets in one run for one component (a section of cmake_build). */
export function nestedImageTag(image: string, runId: string, component: string): string {
  return `triton-build/${image}:${runId}-${component}`;
}

/** The name a fixed container name gets in one run for one component. */
export function nestedContainerName(container: string, runId: string, component: string): string {
  return `${container}-${runId}-${component}`;
}

export interface NestedDockerLabels {
  runId: string;
  /** Labels every nested container gets, so a later run can remove those of a run killed with -9. */
  labels: Record<string, string>;
}

/** Run ids name images and containers: lower-case letters, digits and dashes (newRunId). */
const RUN_ID = /^[a-z0-9][a-z0-9-]*$/;

/**
 * The `docker` wrapper (POSIX sh: the real builder runs dash, the fixture busybox ash). It reads
 * the component from TRITON_BUILD_COMPONENT, which the rewritten cmake_build exports in each
 * section, and finds the real docker as the next one on PATH.
 */
export function nestedDockerWrapper({ runId, labels }: NestedDockerLabels): string {
  if (!RUN_ID.test(runId)) throw new Error(`nested docker wrapper: '${runId}' is not a run id`);
  const labelArgs = shellQuote(Object.entries(labels).flatMap(([name, value]) => ["--label", `${name}=${value}`]));
  return `#!/bin/sh
# triton-build: gives the Docker images and containers that backends create on the host's
# daemon under fixed names names of this run (${runId}) and component, then runs the real docker.
run=${runId}
component=\${TRITON_BUILD_COMPONENT:-builder}
scope="$run-$component"

self=$(cd "$(dirname "$0")" && pwd)
real=
saved_ifs=$IFS
IFS=:
for dir in $PATH; do
  [ "$dir" = "$self" ] && continue
  if [ -x "$dir/docker" ]; then real=$dir/docker; break; fi
done
IFS=$saved_ifs
if [ -z "$real" ]; then echo "triton-build: no docker command on PATH besides $0" >&2; exit 127; fi

image_tag() {
  case $1 in
    ${NESTED_IMAGES.join("|")}) echo "triton-build/$1:$scope" ;;
    *) echo "$1" ;;
  esac
}
container_name() {
  case $1 in
    ${NESTED_CONTAINERS.join("|")}) echo "$1-$scope" ;;
    *) echo "$1" ;;
  esac
}
cache_base() {
  # tritonserver_onnxruntime, tritonserver_onnxruntime_cache0 -> tritonserver_onnxruntime
  for name in ${NESTED_IMAGES.join(" ")}; do
    case $1 in "$name" | "$name"_cache[0-9]*) echo "$name"; return 0 ;; esac
  done
  return 1
}

cmd=$1
[ $# -gt 0 ] && shift
count=$#
built=
dockerfile=
cache_from=
# The arguments are rotated through "$@" (no arrays in POSIX sh): each is taken off the front and
# its mapped form put at the back.
case $cmd in
  build | image | buildx)
    prev=
    hash_input=$(printf '%s\\n' "$@")
    for arg in "$@"; do
      case $arg in
        -f | --file) dockerfile=next ;;
        --file=*) dockerfile=\${arg#--file=} ;;
        *) [ "$dockerfile" = next ] && dockerfile=$arg ;;
      esac
    done
    if [ -n "$dockerfile" ] && [ -r "$dockerfile" ]; then hash_input="$hash_input$(cat "$dockerfile")"; fi
    hash=$(printf '%s' "$hash_input" | sha256sum | cut -c1-16)
    i=0
    while [ $i -lt $count ]; do
      arg=$1
      shift
      out=$arg
      case $prev in
        -t | --tag) out=$(image_tag "$arg"); [ "$out" != "$arg" ] && built="$arg $out" ;;
        --cache-from) base=$(cache_base "$arg") && out="triton-build/$base:cache-$hash" && cache_from=$base ;;
        *)
          case $arg in
            --tag=*) out=--tag=$(image_tag "\${arg#--tag=}"); [ "$out" != "$arg" ] && built="\${arg#--tag=} \${out#--tag=}" ;;
            --cache-from=*) base=$(cache_base "\${arg#--cache-from=}") && out="--cache-from=triton-build/$base:cache-$hash" && cache_from=$base ;;
          esac
          ;;
      esac
      set -- "$@" "$out"
      prev=$arg
      i=$((i + 1))
    done
    [ "$cmd" = build ] && set -- --label triton-build.run=$run "$@"
    ;;
  create | run)
    prev=
    i=0
    while [ $i -lt $count ]; do
      arg=$1
      shift
      case $prev in
        --name) out=$(container_name "$arg") ;;
        *)
          case $arg in
            --name=*) out=--name=$(container_name "\${arg#--name=}") ;;
            *) out=$(image_tag "$arg") ;;
          esac
          ;;
      esac
      set -- "$@" "$out"
      prev=$arg
      i=$((i + 1))
    done
    set -- ${labelArgs} "$@"
    ;;
  *)
    # rm, stop, start, kill, cp (NAME:PATH), inspect, tag, rmi: containers by name, images by name.
    i=0
    while [ $i -lt $count ]; do
      arg=$1
      shift
      out=$(container_name "$arg")
      case $arg in
        *:*)
          name=\${arg%%:*}
          mapped=$(container_name "$name")
          [ "$mapped" != "$name" ] && out="$mapped:\${arg#*:}"
          ;;
      esac
      [ "$out" = "$arg" ] && out=$(image_tag "$arg")
      set -- "$@" "$out"
      i=$((i + 1))
    done
    ;;
esac

"$real" "$cmd" "$@"
status=$?
if [ $status -eq 0 ] && [ -n "$built" ] && [ -n "$cache_from" ]; then
  # The next run's --cache-from finds this image (only a speed-up: a failure is ignored).
  "$real" tag "\${built#* }" "triton-build/$cache_from:cache-$hash" >/dev/null 2>&1 || true
fi
exit $status
`;
}

/**
 * Removes what the wrapper made for one run: per-run image tags (layers stay for the next run's
 * cache) and nested containers a failed build left behind.
 */
export async function removeNestedObjects(engine: DockerEngine, runId: string): Promise<void> {
  const containers = await engine.listLabelledContainers(`triton-build.run=${runId}`).catch(() => []);
  for (const container of containers) {
    if (NESTED_CONTAINERS.some((name) => container.name.startsWith(`${name}-${runId}-`))) await engine.removeContainer(container.name).catch(() => undefined);
  }
  const references = await engine.listImageReferences().catch(() => [] as string[]);
  const tags = references.filter((ref) => ref.startsWith("triton-build/") && ref.includes(`:${runId}-`));
  const imageId = (ref: string) =>
    engine.inspectImage(ref).then(
      (info) => info?.id,
      () => undefined,
    );
  // The images this run's nested builds made or reused: the cache tags the wrapper pointed at them stay.
  const usedIds = new Set((await Promise.all(tags.map(imageId))).filter((id) => id !== undefined));
  for (const tag of tags) await engine.untagImage(tag).catch(() => undefined);
  // The shared layer-cache tags of the nested builds (one per Dockerfile and arguments): the newest few per image.
  const cacheTags = references.filter((ref) => ref.startsWith("triton-build/") && ref.includes(":cache-") && !ref.startsWith(`${BUILDBASE_REPOSITORY}:`));
  const inUse = new Set<string>();
  for (const ref of cacheTags) {
    const id = await imageId(ref);
    if (id !== undefined && usedIds.has(id)) inUse.add(ref);
  }
  for (const repository of new Set(cacheTags.map((ref) => ref.slice(0, ref.indexOf(":"))))) {
    const current = [...inUse].filter((ref) => ref.startsWith(`${repository}:`));
    await keepNewestCacheTags(engine, repository, current).catch(() => undefined);
  }
}
