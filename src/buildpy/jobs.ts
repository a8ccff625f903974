/**
 * The job count inside one section of cmake_build: build.py writes `cmake --build ... -jN` for
 * every component and the TensorRT-LLM rewrite adds `build_wheel.py --job_count N`. When several
 * builders compile at once they share the job budget, so each section gets its own count. Cache
 * keys leave these numbers out (key.ts normalizeSection): the outputs do not depend on them.
 */
export function withJobCount(lines: readonly string[], jobs: number): string[] {
  return lines.map((line) => {
    if (/^\s*cmake\s+--build\b/.test(line)) {
      return line.replace(/(\s)-j\s?\d+\b/g, `$1-j${jobs}`).replace(/(\s)--parallel(\s|=)\d+\b/g, `$1--parallel$2${jobs}`);
    }
    if (/\bbuild_wheel\.py\b/.test(line)) return line.replace(/(\s)--job_count(\s+|=)\d+\b/g, `$1--job_count$2${jobs}`);
    return line;
  });
}
