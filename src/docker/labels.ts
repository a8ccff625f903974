/** An object a list command names, with its labels. */
export interface Labelled {
  name: string;
  labels: Record<string, string>;
}

/** The output of `docker ps|volume ls --format '{{.Name(s)}}\t{{json .Labels}}'`, one object per line. */
export function parseLabelledList(stdout: string): Labelled[] {
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [name = "", labels = ""] = line.split("\t");
      return { name, labels: parseLabelList(labels) };
    });
}

/** docker's `{{json .Labels}}` of a list command: a quoted `a=b,c=d` string. */
export function parseLabelList(text: string): Record<string, string> {
  const plain = text.startsWith('"') ? (JSON.parse(text) as string) : text;
  const labels: Record<string, string> = {};
  for (const pair of plain.split(",").filter(Boolean)) {
    const eq = pair.indexOf("=");
    if (eq > 0) labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}
