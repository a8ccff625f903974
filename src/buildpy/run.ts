import { readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { cancellation, EnvironmentError, firstErrorLine, UsageError } from "../errors.js";

/** The build.py adapter: the only code that runs the server repo's Python. */

export interface PythonInfo {
  executable: string;
  version: string;
}

export interface RunOptions {
  signal?: AbortSignal;
  env?: Record<string, string | undefined>;
}

/** Python 3 that can `import requests`, which build.py needs at start-up. */
export async function checkPython(python: string, options: RunOptions = {}): Promise<PythonInfo> {
  const probe = "import sys, requests; print(sys.version.split()[0])";
  const result = await execa(python, ["-c", probe], {
    reject: false,
    cancelSignal: options.signal,
    env: options.env,
    timeout: 60_000,
  });
  if (result.failed && (result as { code?: string }).code === "ENOENT") {
    throw new EnvironmentError(
      `python interpreter '${python}' not found`,
      "install Python 3 (e.g. `apt-get install python3 python3-requests`) or pass --python /path/to/python3",
    );
  }
  if (result.exitCode === undefined) throw new EnvironmentError(`'${python}' ${await whyNotStarted(python, result)}`, "pass --python with a working Python 3");
  if (result.exitCode !== 0) {
    const missingRequests = /No module named '?requests'?/.test(result.stderr);
    if (missingRequests) {
      throw new EnvironmentError(
        `'${python}' cannot import the Python package 'requests', which build.py imports at start-up`,
        `install it: \`${python} -m pip install requests\` (or \`apt-get install python3-requests\`), or pass --python with an interpreter that has it`,
      );
    }
    throw new EnvironmentError(
      `'${python}' does not run: ${firstErrorLine(result.stderr) || `exit code ${result.exitCode}`}`,
      "pass --python with a working Python 3",
    );
  }
  const version = result.stdout.trim();
  if (!version.startsWith("3.")) throw new EnvironmentError(`'${python}' is Python ${version}; build.py needs Python 3`, "pass --python python3");
  return { executable: python, version };
}

export interface GeneratedScripts {
  cmakeBuild: string;
  dockerBuild: string;
  buildbaseDockerfile: string;
}

/** `python build.py --dryrun ARGV` in the checkout; returns what it wrote to `build/`. */
export async function runBuildpyDryrun(python: string, checkoutDir: string, argv: readonly string[], options: RunOptions = {}): Promise<GeneratedScripts> {
  const buildDir = path.join(checkoutDir, "build");
  // Scripts left from an earlier run would be mistaken for this run's output.
  await rm(buildDir, { recursive: true, force: true });
  const result = await execa(python, ["build.py", "--dryrun", ...argv], {
    cwd: checkoutDir,
    reject: false,
    cancelSignal: options.signal,
    env: options.env,
    timeout: 5 * 60_000,
  });
  if (result.isCanceled) throw cancellation(options.signal, "build.py --dryrun");
  if (result.exitCode !== 0) {
    const errorLine = firstErrorLine(result.stderr);
    if (errorLine.startsWith("error: ")) {
      throw new UsageError(
        `build.py rejected the command line: ${errorLine.slice("error: ".length)}`,
        "check the preset and the --buildpy-arg/--backend/--image options; `triton-build plan` prints the full build.py command line",
      );
    }
    const usage = result.stderr.includes("usage: build.py");
    throw new UsageError(
      `build.py --dryrun failed (exit ${result.exitCode ?? "signal"}): ${errorLine || "no output"}`,
      usage
        ? "build.py does not know one of the arguments; check --buildpy-arg"
        : "run the printed build.py command by hand in the checkout to see its full output",
    );
  }
  const read = (name: string) => readFile(path.join(buildDir, name), "utf8");
  try {
    const [cmakeBuild, dockerBuild, buildbaseDockerfile] = await Promise.all([read("cmake_build"), read("docker_build"), read("Dockerfile.buildbase")]);
    return { cmakeBuild, dockerBuild, buildbaseDockerfile };
  } catch (error) {
    throw new UsageError(
      `build.py --dryrun did not write build/cmake_build, build/docker_build and build/Dockerfile.buildbase: ${String(error)}`,
      "a container build is needed; do not pass --no-container-build through --buildpy-arg",
    );
  }
}

/** Why a process that has no exit code did not run: it could not start, timed out or was killed. */
async function whyNotStarted(executable: string, result: { code?: string; timedOut: boolean; signal?: string; originalMessage?: string }): Promise<string> {
  if (result.timedOut) return "did not answer within 60 s";
  if (result.signal) return `was killed by ${result.signal}`;
  if (result.code === "EACCES") {
    const isDirectory = await stat(executable).then(
      (s) => s.isDirectory(),
      () => false,
    );
    return isDirectory ? "is a directory, not a Python interpreter" : "cannot be run: it is not executable (EACCES)";
  }
  return `cannot be run: ${result.originalMessage ?? result.code ?? "unknown error"}`;
}
