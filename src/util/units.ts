/** `200GB`, `1.5TB`, `512MiB`, `1000` (bytes); undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*$/i.exec(text);
  if (!match) return undefined;
  const [, number = "", unit = "", binary = ""] = match;
  const power = ["", "k", "m", "g", "t"].indexOf(unit.toLowerCase());
  return Math.round(Number(number) * (binary ? 1024 : 1000) ** power);
}

/** `30d`, `12h`, `90m`, `2w`, `45s`; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$/i.exec(text);
  if (!match) return undefined;
  const seconds = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[(match[2] ?? "s").toLowerCase() as "s"];
  return Math.round(Number(match[1]) * seconds * 1000);
}
