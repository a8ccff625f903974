import { describe, expect, it } from "vitest";
import { releaseMismatch } from "./release-check.js";

const r2405 = { container: "24.05", triton: "2.46.0" };

describe("releaseMismatch", () => {
  it("compares each field only where both images declare it", () => {
    expect(
      releaseMismatch([
        { image: "a", container: "24.05" },
        { image: "b", ...r2405 },
      ]),
    ).toBeUndefined();
    expect(
      releaseMismatch(
        [
          { image: "a", container: "24.05" },
          { image: "b", ...r2405 },
        ],
        r2405,
      ),
    ).toBeUndefined();
    expect(
      releaseMismatch(
        [
          { image: "a", triton: "2.46.0" },
          { image: "b", ...r2405 },
        ],
        r2405,
      ),
    ).toBeUndefined();
    expect(
      releaseMismatch([
        { image: "a", container: "24.05" },
        { image: "b", container: "24.06", triton: "2.46.0" },
      ]),
    ).toBe("the source images are of different Triton releases: a is 24.05 (no TRITON_SERVER_VERSION); b is 24.06 (Triton 2.46.0)");
  });

  it("images that agree with each other but not with the preset's release fail, naming both versions", () => {
    const r2406 = { container: "24.06", triton: "2.47.0" };
    expect(
      releaseMismatch(
        [
          { image: "a", ...r2406 },
          { image: "b", ...r2406 },
        ],
        r2405,
      ),
    ).toBe("the source images are not of the preset's release 24.05 (Triton 2.46.0): a is 24.06 (Triton 2.47.0); b is 24.06 (Triton 2.47.0)");
    expect(
      releaseMismatch([
        { image: "a", ...r2406 },
        { image: "b", ...r2406 },
      ]),
    ).toBeUndefined();
  });

  it("images that declare different fields are compared through the preset's release", () => {
    expect(
      releaseMismatch(
        [
          { image: "a", container: "24.05" },
          { image: "b", triton: "2.47.0" },
        ],
        r2405,
      ),
    ).toBe("the source images are not of the preset's release 24.05 (Triton 2.46.0): b is Triton 2.47.0 (no NVIDIA_TRITON_SERVER_VERSION)");
  });
});
