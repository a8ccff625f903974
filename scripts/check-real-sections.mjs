// Part of check-real-buildpy.sh: the executor compiles each component in its own builder from
// build.py's cmake_build cut down to that component's section (rewriteCmakeBuild) with its own
// job count (withJobCount). On a real cmake_build, each such script must be valid bash, hold
// exactly that section between its markers, and have every `cmake --build` line given the count.
//   usage: node scripts/check-real-sections.mjs PATH/TO/cmake_build
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseCmakeBuild } from "../dist/buildpy/cmake-build.js";
import { withJobCount } from "../dist/buildpy/jobs.js";
import { markerCommand, rewriteCmakeBuild } from "../dist/buildpy/rewrite.js";

const script = parseCmakeBuild(readFileSync(process.argv[2], "utf8"));
const problems = [];
for (const section of script.sections) {
  const text = rewriteCmakeBuild(script, {
    build: new Set([section.name]),
    nonce: "check",
    transformSection: (s) => withJobCount(s.lines, 3),
  });
  try {
    execFileSync("bash", ["-n"], { input: text, stdio: ["pipe", "ignore", "pipe"] });
  } catch (error) {
    problems.push(`${section.name}: not valid bash: ${String(error.stderr ?? error).trim()}`);
  }
  const begins = text.split("\n").filter((line) => line.startsWith(markerCommand("check", "begin", "X").slice(0, -3)));
  if (begins.length !== 1 || begins[0] !== markerCommand("check", "begin", section.name)) problems.push(`${section.name}: markers ${begins.join(" | ")}`);
  const builds = text.split("\n").filter((line) => /^\s*cmake\s+--build\b/.test(line));
  if (builds.some((line) => /\s-j\s?\d+\b/.test(line) && !/\s-j3\b/.test(line))) problems.push(`${section.name}: a cmake --build line kept its own -j`);
}
if (problems.length) {
  console.log(`FAIL per-component scripts:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`ok   per-component scripts: ${script.sections.length} sections, each valid bash alone with its own job count`);
