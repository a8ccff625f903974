// Set up for the cli and e2e projects: after each test, the machine output of every run it
// started with startCli (events and report) must have followed the shipped schema, and no such
// run may outlive its test. Registered before each file's own hooks, so with vitest's stacked
// hooks it runs after them: a file's clean-up may have removed a report by then, so runs are
// awaited by their tests (they are) and checked as soon as they end.
import { afterAll, afterEach, expect } from "vitest";
import { machineOutputFailures } from "./cli.js";

afterEach(async () => {
  expect(await machineOutputFailures(), "machine output of runs started with startCli").toEqual([]);
}, 30_000);

afterAll(async () => {
  expect(await machineOutputFailures(), "machine output of runs started with startCli").toEqual([]);
}, 30_000);
