import { describe, expect, it } from "vitest";
import { parseChallenge, repositoryScope, tokenFromAnswer } from "./auth.js";

describe("WWW-Authenticate challenges", () => {
  it("reads Bearer parameters, commas and escaped quotes inside quoted values included", () => {
    expect(parseChallenge('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"')).toEqual({
      scheme: "bearer",
      realm: "https://auth.example.com/token",
      service: "registry.example.com",
      scope: "repository:a/b:pull,push",
    });
    expect(parseChallenge('bearer realm="https://x/\\"t\\"", service=reg')).toEqual({ scheme: "bearer", realm: 'https://x/"t"', service: "reg" });
  });

  it("reads Basic, and nothing else", () => {
    expect(parseChallenge('Basic realm="triton-build-test"')).toEqual({ scheme: "basic", realm: "triton-build-test" });
    expect(parseChallenge("Negotiate abc")).toBeUndefined();
    expect(parseChallenge(undefined)).toBeUndefined();
  });

  it("asks pull-only scope unless pushing", () => {
    expect(repositoryScope("team/cache", "pull")).toBe("repository:team/cache:pull");
    expect(repositoryScope("team/cache", "push")).toBe("repository:team/cache:pull,push");
  });

  it("takes token or OAuth2 access_token from the token service's answer", () => {
    expect(tokenFromAnswer({ token: "t1" })).toBe("t1");
    expect(tokenFromAnswer({ access_token: "t2" })).toBe("t2");
    expect(tokenFromAnswer({ token: "" })).toBeUndefined();
    expect(tokenFromAnswer(null)).toBeUndefined();
  });
});
