import path from "node:path";
import { describe, expect, it } from "vitest";
import { foldersNamedIn, foldersNamedInText, sectionOf, srcFolders } from "../helpers/doc-folders.js";
import { PROJECT_ROOT } from "../helpers/fixture-repo.js";

const README = path.join(PROJECT_ROOT, "README.md");

describe("README's development map", () => {
  it("names every folder under src/", () => {
    const named = foldersNamedIn(README, { section: "Development" });
    const folders = srcFolders();
    expect(folders.length).toBeGreaterThan(5);
    expect(folders.filter((folder) => !named.has(folder))).toEqual([]);
  });

  it("the helper: folders named with a trailing slash, their parents, only in the given section", () => {
    const markdown =
      "# A\nsrc/nope/ here\n## Development\n```\n# not a heading\nsrc/cache/  x\nsrc/strategies/buildpy/  y\n```\nsrc/cache.ts is a file\n## Next\nsrc/later/\n";
    const section = sectionOf(markdown, "Development");
    expect(section).toContain("src/strategies/buildpy/");
    expect(section).not.toContain("src/later/");
    expect(section).not.toContain("src/nope/");
    expect(sectionOf(markdown, "Missing")).toBe("");
    expect([...foldersNamedInText(section)].sort()).toEqual(["src/cache", "src/strategies", "src/strategies/buildpy"]);
    expect([...foldersNamedInText("see ./test/src/x/ and mysrc/y/ and `src/util/`")]).toEqual(["src/util"]);
  });
});
