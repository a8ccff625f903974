import { CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { EnvironmentError } from "../errors.js";
import { readFile } from "node:fs/promises";
import { failureOutcome, VERSION } from "./program.js";

describe("failureOutcome: how an error ends the process", () => {
  it("help and version end quietly with exit 0", () => {
    expect(failureOutcome(new CommanderError(0, "commander.helpDisplayed", "(outputHelp)"), false)).toEqual({ exitCode: 0 });
    expect(failureOutcome(new CommanderError(0, "commander.version", "0.1.0"), false)).toEqual({ exitCode: 0 });
  });

  it("commander's parse errors are usage errors it has already printed", () => {
    expect(failureOutcome(new CommanderError(1, "commander.unknownOption", "error: unknown option '--x'"), false)).toEqual({ exitCode: 2 });
  });

  it("any other error with an exitCode property is an unexpected failure, printed", () => {
    const childFailure = Object.assign(new Error("Command failed with exit code 1: docker info"), { exitCode: 1 });
    const outcome = failureOutcome(childFailure, false);
    expect(outcome.exitCode).toBe(1);
    expect(outcome.message).toContain("error: unexpected failure: Command failed with exit code 1: docker info");
  });

  it("expected failures print their message and hint and use their exit code", () => {
    expect(failureOutcome(new EnvironmentError("docker is not running", "start it"), false)).toEqual({
      exitCode: 3,
      message: "error: docker is not running\nhint: start it",
    });
  });
});

describe("--version", () => {
  it("is package.json's version", async () => {
    const packageJson = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect(VERSION).toBe(packageJson.version);
  });
});
