// vitest globalSetup for CLI tests: they run dist/, so compile it first (a few seconds).
import { execa } from "execa";
import { PROJECT_ROOT } from "./fixture-repo.js";

export default async function setup(): Promise<void> {
  await execa("npm", ["run", "build", "--silent"], { cwd: PROJECT_ROOT, stdio: "inherit" });
}
