#!/usr/bin/env bash
# Checks every built-in preset against a real Triton server checkout (e.g. r24.05 of
# triton-inference-server/server, which this project never commits): `triton-build plan` runs
# that checkout's own build.py --dryrun with the preset's argv and lists the sections it wrote.
#   usage: scripts/check-real-buildpy.sh /path/to/server-checkout [REF]
set -euo pipefail
src=${1:?usage: $0 /path/to/server-checkout [ref]}
ref=${2:-r24.05}
cli="$(cd "$(dirname "$0")/.." && pwd)/bin/triton-build.js"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for preset in trtllm-plus-onnx llm-plus-vision full; do
  node "$cli" plan --preset "$preset" --source "$src" --ref "$ref" --cache-dir "$work/cache" \
    --work-dir "$work/$preset" --json > "$work/$preset.json"
  written=$(grep -cE "^# end ('.*' (backend|repository agent|cache)|Triton core library and tritonserver executable|Triton CI artifacts)$" \
    "$work/$preset/server/build/cmake_build")
  planned=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['components']))" "$work/$preset.json")
  names=$(python3 -c "import json,sys; print(' '.join(c['name']+(':'+c['tag'] if c['tag'] else '') for c in json.load(open(sys.argv[1]))['components']))" "$work/$preset.json")
  if [ "$written" = "$planned" ]; then echo "ok   $preset: $planned sections: $names"; else echo "FAIL $preset: build.py wrote $written sections, plan has $planned"; status=1; fi
done
exit $status
