/**
 * The environment build.py r24.05 gives its final image for a backend it installs
 * (dockerfile_prepare_container_linux). A backend copied by compose needs the same, or it misses
 * what its libraries expect to find; the base image already has its own backends' settings.
 * "server@r24.05:build.py#L1149" is build.py on branch r24.05 of triton-inference-server/server,
 * line 1149, as in presets/releases/24.05.yaml.
 */
export interface BackendEnv {
  backend: string;
  /** The ENV instruction's argument. */
  env: string;
  why: string;
  source: string;
}

/** In build.py's order, so the library path is prepended the same way. */
export const BACKEND_ENV: readonly BackendEnv[] = [
  {
    backend: "onnxruntime",
    env: "LD_LIBRARY_PATH=/opt/tritonserver/backends/onnxruntime:${LD_LIBRARY_PATH}",
    why: "the ONNX Runtime backend's libraries on the library path",
    source: "server@r24.05:build.py#L1149-1152",
  },
  {
    backend: "pytorch",
    env: "LD_LIBRARY_PATH=/opt/hpcx/ucc/lib/:/opt/hpcx/ucx/lib/:${LD_LIBRARY_PATH}",
    why: "libtorch finds the HPC-X libraries it was built with",
    source: "server@r24.05:build.py#L1154-1158",
  },
  {
    backend: "dali",
    env: "PYTHONPATH=/opt/tritonserver/backends/dali/wheel/dali:$PYTHONPATH",
    why: "the DALI wheel shipped in the backend on the Python path",
    source: "server@r24.05:build.py#L1271-1275",
  },
];

/** Dockerfile lines for the copied backends: each ENV with a comment saying why and where from. */
export function backendEnvLines(copied: readonly string[]): string[] {
  return BACKEND_ENV.filter((entry) => copied.includes(entry.backend)).flatMap((entry) => [
    `# ${entry.backend}: ${entry.why}, as build.py sets it (${entry.source})`,
    `ENV ${entry.env}`,
  ]);
}
