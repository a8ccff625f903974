/**
 * "did you mean" help for mistyped names: the closest candidate within a small edit distance. A
 * mistyped or shortened start of a longer name counts too (`onnx` -> onnxruntime, `trtlm` ->
 * trtllm-onnx), one step further than the same distance to the whole name.
 */
export function closestMatch(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(input.length / 3)) + 1;
  const typed = input.toLowerCase();
  for (const candidate of candidates) {
    const name = candidate.toLowerCase();
    const whole = editDistance(typed, name);
    const start = typed.length >= 3 && name.length > typed.length ? editDistance(typed, name.slice(0, typed.length)) + 1 : whole;
    const distance = Math.min(whole, start);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

export function expectedOneOf(input: string, candidates: readonly string[]): string {
  const suggestion = closestMatch(input, candidates);
  return `expected one of ${candidates.join(", ")}${suggestion ? ` (did you mean '${suggestion}'?)` : ""}`;
}
