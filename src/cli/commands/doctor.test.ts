import { describe, expect, it } from "vitest";
import { doctorTable } from "./doctor.js";

describe("doctor's table", () => {
  it("lines up the same whether every check is OK or some warn, fixes under their check", () => {
    const ok = doctorTable([{ name: "git", status: "ok", detail: "git 2.39" }]);
    const warn = doctorTable([
      { name: "git", status: "ok", detail: "git 2.39" },
      { name: "disk (work dir)", status: "warn", detail: "5.0 GB free at /w, under the 20 GB a run needs", fix: "pass --work-dir DIR" },
    ]);
    const column = (text: string, check: string) =>
      text
        .split("\n")
        .find((l) => l.includes(check))
        ?.indexOf(check === "git" ? "git 2" : "5.0 GB");
    expect(column(ok, "git")).toBe(column(warn, "git"));
    expect(column(warn, "disk")).toBe(column(warn, "git"));
    expect(warn.split("\n")[2]).toBe(`${" ".repeat(column(warn, "git") ?? 0)}fix: pass --work-dir DIR`);
  });
});
