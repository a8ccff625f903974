import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cliEnv, expectCleanFailure, makeTempDir, removeTempDir, runCli } from "../helpers/cli.js";
import { createFixtureOrg, createFixtureServerRepo } from "../helpers/fixture-repo.js";

let temp: string;

beforeAll(async () => {
  temp = await makeTempDir("tb-help-");
});
afterAll(() => removeTempDir(temp));

/** The option rows of one help group, joined per option (commander wraps long descriptions). */
function group(help: string, heading: string): string[] {
  const start = help.indexOf(`${heading}\n`);
  if (start < 0) return [];
  const body = help.slice(start + heading.length + 1).split("\n\n")[0] ?? "";
  const options: string[] = [];
  for (const line of body.split("\n")) {
    if (/^ {2}-/.test(line)) options.push(line.trim());
    else if (options.length) options[options.length - 1] += ` ${line.trim()}`;
  }
  return options;
}

describe("help that teaches", () => {
  it("build --help: options in groups, each with its environment variable and its real default", async () => {
    const cacheDir = path.join(temp, "the-cache");
    const { stdout, exitCode } = await runCli(["build", "--help"], { tempDir: temp, env: { TRITON_BUILD_CACHE_DIR: cacheDir } });
    expect(exitCode).toBe(0);
    const headings = [...stdout.matchAll(/^([A-Z][a-z ]+ options):$/gm)].map((m) => m[1]);
    expect(headings).toEqual([
      "Source options",
      "Component options",
      "Cache and remote cache options",
      "Builder and engine options",
      "Output options",
      "Compose options",
      "Advanced options",
    ]);
    expect(group(stdout, "Builder and engine options:").map((o) => o.split(" ")[0])).toEqual(["--parallel", "--engine", "--fail-fast"]);
    expect(group(stdout, "Source options:").map((o) => o.split(" ")[0])).toEqual(["--source", "--ref", "--github-organization", "--offline"]);
    expect(group(stdout, "Compose options:").map((o) => o.split(" ")[0])).toEqual(["--strategy", "--allow-missing-libs"]);
    expect(group(stdout, "Component options:").some((o) => o.startsWith("-p, --preset"))).toBe(true);
    const all = headings.flatMap((h) => group(stdout, `${h}:`));
    // Every option but --help names the variable it is read from.
    for (const option of all.filter((o) => !o.startsWith("-h, --help"))) expect(option, option).toMatch(/env TRITON_BUILD_[A-Z_]+\)$/);
    expect(all.find((o) => o.startsWith("--no-pull"))).toContain("env TRITON_BUILD_NO_PULL");
    expect(all.find((o) => o.startsWith("--backend"))).toContain("(repeatable; env TRITON_BUILD_BACKEND)");
    // Defaults are the values, not prose: the config dir's config.json is read for them.
    expect(all.find((o) => o.startsWith("--python"))).toContain("default: python3;");
    expect(all.find((o) => o.startsWith("--strategy"))).toContain("one of build, compose; default: build;");
    expect(group(stdout, "Cache and remote cache options:").find((o) => o.startsWith("--remote-cache-stall-timeout"))).toContain(
      "default: 60; env TRITON_BUILD_REMOTE_CACHE_STALL_TIMEOUT)",
    );
    expect(stdout).not.toContain("platform cache dir");
  });

  it("a config value is the default help shows", async () => {
    const configDir = path.join(temp, "config-set");
    await mkdir(configDir, { recursive: true });
    await writeFile(path.join(configDir, "config.json"), JSON.stringify({ cacheDir: "/srv/triton-cache", python: "/usr/bin/python3.11" }));
    const { stdout } = await runCli(["build", "--help"], { tempDir: temp, env: { TRITON_BUILD_CONFIG_DIR: configDir } });
    const options = group(stdout, "Cache and remote cache options:").concat(group(stdout, "Advanced options:"));
    expect(options.find((o) => o.startsWith("--cache-dir"))).toContain("default: /srv/triton-cache (config cacheDir); env TRITON_BUILD_CACHE_DIR");
    expect(options.find((o) => o.startsWith("--python"))).toContain("default: /usr/bin/python3.11 (config python)");
  });

  it("without config, the cache dir default is the path `config list` shows", async () => {
    const env = { TRITON_BUILD_CONFIG_DIR: path.join(temp, "no-config") };
    const list = await runCli(["config", "list"], { tempDir: temp, env });
    const builtIn = /^cacheDir\s+-\s+TRITON_BUILD_CACHE_DIR\s+(\S+)/m.exec(list.stdout)?.[1];
    expect(builtIn).toMatch(/^\//);
    const { stdout } = await runCli(["build", "--help"], { tempDir: temp, env });
    expect(group(stdout, "Cache and remote cache options:").find((o) => o.startsWith("--cache-dir"))).toContain(
      `default: ${builtIn}; env TRITON_BUILD_CACHE_DIR`,
    );
  });

  it("one wording of the exit codes; examples paste into a shell", async () => {
    const texts = await Promise.all([[], ["build"], ["plan"]].map(async (command) => (await runCli([...command, "--help"], { tempDir: temp })).stdout));
    const wordings = new Set(texts.map((t) => /^Exit codes: .*$/m.exec(t)?.[0]));
    expect(wordings).toEqual(
      new Set(["Exit codes: 0 success, 1 build failed, 2 usage or preset error, 3 environment problem (docker, python, disk), 130 interrupted."]),
    );
    for (const text of texts) {
      const examples = (text.split("Examples:\n")[1] ?? "").split("\n\n")[0]?.split("\n") ?? [];
      expect(examples.length).toBeGreaterThan(1);
      for (const line of examples) {
        expect(line, "an example line is a command or a # comment").toMatch(/^ {2}(# .+|triton-build .+|source <\(triton-build completion bash\))$/);
        // A command has no trailing "(...)" remark and no prose aligned after it.
        if (line.startsWith("  triton-build")) expect(line).not.toMatch(/\)\s*$|\s{3,}\S/);
      }
    }
  });

  it("--quiet together with --verbose is a usage error", async () => {
    expectCleanFailure(await runCli(["--preset", "full", "--quiet", "--verbose"], { tempDir: temp }), 2, "--quiet and --verbose");
  });

  it("build --dry-run shows the plan and builds nothing", async () => {
    const server = await createFixtureServerRepo(path.join(temp, "server"));
    const { url } = await createFixtureOrg(path.join(temp, "org"));
    const args = ["--preset", "llm-plus-vision", "--source", server.path, "--github-organization", url];
    const dry = await runCli(["build", ...args, "--dry-run"], { tempDir: temp });
    expect(dry.exitCode, dry.stderr).toBe(0);
    const plan = await runCli(["plan", ...args], { tempDir: temp });
    const withoutKeys = (text: string) => text.replace(/[0-9a-f]{12}/g, "KEY");
    expect(withoutKeys(dry.stdout)).toBe(withoutKeys(plan.stdout));
    expect(dry.stdout).toContain(`r24.05 -> ${server.commit}`);
    expect(dry.stdout).not.toMatch(/Compile components|^Image /m);
  });
});

describe("names a user mistypes", () => {
  it("presets show trtlm: did you mean, and the presets there are", async () => {
    const result = await runCli(["presets", "show", "trtlm"], { tempDir: temp });
    expectCleanFailure(result, 2, "unknown preset 'trtlm'; expected one of full, llm-plus-vision, trtllm-plus-onnx, trtllm-onnx (did you mean 'trtllm-");
  });
});

describe("shell completion", () => {
  const complete = async (shellLine: string) => {
    const script = `source <(node ${CLI} completion bash)
COMP_WORDS=(${shellLine}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
_triton_build; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const result = await execa("bash", ["-c", script], { env: cliEnv(temp), extendEnv: false, cwd: temp });
    return result.stdout.split("\n").filter(Boolean);
  };

  it("the bash script loads and registers the completion", async () => {
    const { stdout } = await execa("bash", ["-c", `source <(node ${CLI} completion bash); complete -p triton-build`], { env: cliEnv(temp), extendEnv: false });
    expect(stdout).toBe("complete -o default -F _triton_build triton-build");
  });

  it("completes a subcommand, a nested one, an option, and a preset name", async () => {
    expect(await complete("triton-build pre")).toEqual(["presets"]);
    expect(await complete("triton-build cache ex")).toEqual(["explain"]);
    expect(await complete("triton-build --remote-cache-m")).toEqual(["--remote-cache-mode"]);
    expect(await complete("triton-build --preset trt")).toEqual(["trtllm-plus-onnx", "trtllm-onnx"]);
    expect(await complete("triton-build presets show ll")).toEqual(["llm-plus-vision"]);
    expect(await complete("triton-build --strategy c")).toEqual(["compose"]);
    expect(await complete("triton-build config get cache")).toEqual(["cacheDir", "cacheMaxSize"]);
  });

  it("zsh and fish scripts are written for their shells", async () => {
    const zsh = await runCli(["completion", "zsh"], { tempDir: temp });
    expect(zsh.stdout).toMatch(/^#compdef triton-build\n/);
    expect(zsh.stdout).toContain("bashcompinit");
    const fish = await runCli(["completion", "fish"], { tempDir: temp });
    expect(fish.stdout).toContain(
      "complete -c triton-build -n 'not __fish_seen_subcommand_from build plan presets cache doctor config completion' -a 'presets'",
    );
    expect(fish.stdout).toMatch(/complete -c triton-build -n '__fish_seen_subcommand_from presets; and __fish_seen_subcommand_from show' -a '[^']*trtllm-onnx/);
    expectCleanFailure(await runCli(["completion", "powershell"], { tempDir: temp }), 2, "powershell");
  });
});
