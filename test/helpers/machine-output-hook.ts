// Set up for the cli and e2e projects: after each test, the machine output of every run it
// started with startCli (events and report) must have followed the shipped schema.
import { afterEach, expect } from "vitest";
import { machineOutputFailures } from "./cli.js";

afterEach(async () => {
  expect(await machineOutputFailures(), "machine output of runs started with startCli").toEqual([]);
});
