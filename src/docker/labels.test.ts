import { describe, expect, it } from "vitest";
import { parseLabelledList } from "./labels.js";

describe("parseLabelledList", () => {
  it("reads names and labels, values with '=' and ',' kept whole where docker keeps them", () => {
    // as `docker volume ls --format '{{.Name}}\t{{json .Labels}}'` prints them (Docker 20.10)
    const stdout = 'triton-build-run-r1\t"triton-build.host=vm#ab12cd34,triton-build.pid=42,triton-build.run=r1"\nplain\t""\n';
    expect(parseLabelledList(stdout)).toEqual([
      { name: "triton-build-run-r1", labels: { "triton-build.host": "vm#ab12cd34", "triton-build.pid": "42", "triton-build.run": "r1" } },
      { name: "plain", labels: {} },
    ]);
    expect(parseLabelledList('c\t"a=b=c"')).toEqual([{ name: "c", labels: { a: "b=c" } }]);
  });
});
