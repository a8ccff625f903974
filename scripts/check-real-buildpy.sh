#!/usr/bin/env bash
# Checks every built-in preset against a real Triton server checkout (e.g. r24.05 of
# triton-inference-server/server, which this project never commits): `triton-build plan` runs
# that checkout's own build.py --dryrun with the preset's argv. The components the preset asks
# for (from `presets show --json`) must be exactly the sections build.py wrote (its `# end ...`
# markers) and exactly the components the plan lists; and each component's own script (what one
# builder runs: its section alone, with its job count) is valid bash (check-real-sections.mjs).
#   usage: scripts/check-real-buildpy.sh /path/to/server-checkout [REF]
set -euo pipefail
src=${1:?usage: $0 /path/to/server-checkout [ref]}
ref=${2:-r24.05}
cli="$(cd "$(dirname "$0")/.." && pwd)/bin/triton-build.js"
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -f "$root/dist/cli/main.js" ]; then
  echo "error: triton-build is not built in $root (no dist/cli/main.js)" >&2
  echo "hint: run 'npm ci' (it builds) or 'npm run build' in $root first" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for preset in trtllm-plus-onnx llm-plus-vision full; do
  node "$cli" presets show "$preset" --json > "$work/$preset.preset.json"
  node "$cli" plan --preset "$preset" --source "$src" --ref "$ref" --cache-dir "$work/cache" \
    --work-dir "$work/$preset" --json > "$work/$preset.json"
  python3 - "$preset" "$work/$preset.preset.json" "$work/$preset/server/build/cmake_build" "$work/$preset.json" <<'EOF' || status=1
import json, re, sys

preset_name, preset_file, cmake_build, plan_file = sys.argv[1:]
preset = json.load(open(preset_file))
names = lambda refs: [ref.split(":")[0] for ref in refs]

# What the preset asks for: core; each backend but ensemble (built inside core); python, which
# build.py adds for vllm (server@r24.05:build.py#L2501-2508); repository agents; response caches;
# and build.py's CI artifacts section, which it always writes.
backends = names(preset["backends"])
expected = ["core"] + [b for b in backends if b != "ensemble"]
if "vllm" in backends and "python" not in backends:
    expected.append("python")
expected += names(preset["repoAgents"]) + names(preset["responseCaches"]) + ["ci"]

written = []
for line in open(cmake_build).read().splitlines():
    if line == "# end Triton core library and tritonserver executable":
        written.append("core")
    elif line == "# end Triton CI artifacts":
        written.append("ci")
    elif m := re.fullmatch(r"# end '([^']+)' (backend|repository agent|cache)", line):
        written.append(m.group(1))

planned = [c["name"] for c in json.load(open(plan_file))["components"]]

problems = []
for what, got in (("build.py wrote sections", written), ("plan has components", planned)):
    missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
    if missing or extra or len(got) != len(set(got)):
        problems.append(f"{what} {' '.join(got)}; missing: {' '.join(missing) or '-'}; unexpected: {' '.join(extra) or '-'}")
if problems:
    print(f"FAIL {preset_name}: expected {' '.join(sorted(expected))}")
    for problem in problems:
        print(f"     {problem}")
    sys.exit(1)
tags = {c["name"]: c["tag"] for c in json.load(open(plan_file))["components"]}
print(f"ok   {preset_name}: {len(planned)} sections: " + " ".join(n + (":" + tags[n] if tags[n] else "") for n in planned))
EOF
  node "$(dirname "$0")/check-real-sections.mjs" "$work/$preset/server/build/cmake_build" || status=1
done
exit $status
