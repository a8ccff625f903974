import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SPINNER } from "../../src/progress/live-rows.js";
import { visibleWidth } from "../../src/progress/terminal-text.js";
import { makeTempDir, removeTempDir, runCli } from "../helpers/cli.js";
import { runInTerminal, type Terminal } from "../helpers/tmux.js";
import { createWorld, type World } from "../helpers/world.js";

// The CLI in a real pseudo-terminal (tmux), checked on the screen a person sees.

let temp: string;
let world: World;
let small: string;
const terminals: Terminal[] = [];

beforeAll(async () => {
  temp = await makeTempDir("tb-tty-");
  world = await createWorld(temp);
  small = await world.preset(
    "fixture-small",
    "features: [gpu, logging]\nendpoints: [http]\nbackends: [ensemble, python, onnxruntime]\nrepoAgents: [checksum]\n",
  );
});
afterAll(async () => {
  for (const terminal of terminals) await terminal.close();
  await world?.cleanup();
  await removeTempDir(temp);
});

async function terminal(args: string[], size: { columns: number; rows: number }): Promise<Terminal> {
  const opened = await runInTerminal(args, { tempDir: temp, ...size });
  terminals.push(opened);
  return opened;
}

const spinning = (row: string) => SPINNER.some((frame) => row.includes(frame));

/**
 * The dim attribute and foreground colour in force where a row's text starts. tmux's styled
 * capture only writes changes, so the state is followed from the first row on.
 */
function styleAtStartOf(rows: string[], index: number): { dim: boolean; colour: number | undefined } {
  const state = { dim: false, colour: undefined as number | undefined };
  for (const [i, row] of rows.entries()) {
    for (const match of row.matchAll(/\u001b\[([\d;]*)m|([^\u001b])/g)) {
      if (match[2] !== undefined) {
        if (i === index && match[2] !== " ") return { ...state };
        continue;
      }
      for (const code of (match[1] || "0").split(";").map(Number)) {
        if (code === 0) Object.assign(state, { dim: false, colour: undefined });
        else if (code === 2) state.dim = true;
        else if (code === 22) state.dim = false;
        else if (code === 39) state.colour = undefined;
        else if (code >= 30 && code <= 37) state.colour = code;
      }
    }
  }
  return state;
}

describe("the terminal view", () => {
  it("a fully cached build: one dim row per skipped phase, no warning sign, no row wider than the terminal, and the closing summary", async () => {
    const first = await runCli(["--preset", small, ...world.args(), "--tag", world.tag("tty-first"), "--json"], { tempDir: temp });
    expect(first.exitCode, first.stderr).toBe(0);

    const workDir = path.join(temp, "w1");
    const tag = world.tag("tty-cached");
    const tty = await terminal(["--preset", small, ...world.args(), "--tag", tag, "--work-dir", workDir], { columns: 80, rows: 30 });
    expect(await tty.exitCode()).toBe(0);
    const rows = await tty.screen();
    const text = rows.join("\n");

    expect(text).not.toContain("⚠");
    for (const title of ["Base image from recipe", "Build image (buildbase)", "Compile components", "Collect install tree and cache it"]) {
      const mentions = rows.filter((row) => row.startsWith(`- ${title}`) || row.startsWith(`✔ ${title}`) || row.startsWith(title));
      expect(mentions, `${title}: one row`).toHaveLength(1);
      expect(mentions[0]).toMatch(new RegExp(`^- ${title.replace(/[()]/g, "\\$&")}: skipped \\(.+\\)$`));
    }
    const styled = await tty.screen({ styled: true });
    const skippedRow = styled.findIndex((row) => row.includes("- Build image (buildbase): skipped"));
    expect(styleAtStartOf(styled, skippedRow), "the skipped row is dim, neither yellow nor red").toEqual({ dim: true, colour: undefined });

    const wide = (await tty.screen({ joined: true })).filter((row) => visibleWidth(row) > 80);
    expect(wide, "rows wider than the terminal").toEqual([]);
    expect(rows.filter(spinning), "nothing spins after the end").toEqual([]);

    expect(text).toMatch(new RegExp(`^Image +${tag.replace(/[/.]/g, "\\$&")} +[0-9a-f]{12}, [\\d.]+ [KMG]?B$`, "m"));
    expect(text).toMatch(/^Time +[\d.]+m?s, [\d.]+s saved$/m);
    expect(text).toMatch(/^Cache +4 of 4 component\(s\) restored, 100% hit ratio$/m);
    for (const name of ["core", "python", "onnxruntime", "checksum"])
      expect(text).toMatch(new RegExp(`^(Components)? +${name} +restored +local cache +\\S+ +saved \\S+$`, "m"));
    expect(text).toMatch(/^ +ci +skipped +CI artifacts are built only with --ci-image$/m);
    expect(text).toMatch(/^Not needed +Base image from recipe$/m);
    expect(text).toMatch(/^ +Build image \(buildbase\), about [\d.]+m?s saved$/m);
    expect(text).toMatch(/^ +Compile components, about [\d.]+m?s saved$/m);
    expect(text).toMatch(new RegExp(`^Logs +${path.join(workDir, "logs").replace(/[/.]/g, "\\$&")}$`, "m"));
  });

  it("Ctrl-C while compiling: waiting components never spin, the notice comes at once, and no row is left stale", async () => {
    const workDir = path.join(temp, "w2");
    const columns = 60;
    const tty = await terminal(
      // One builder, so the components after python wait (with several they compile side by side).
      [
        "--preset",
        small,
        ...world.args(),
        "--no-cache",
        "--parallel",
        "1",
        "--backend",
        "python:slow-for-interrupt",
        "--tag",
        world.tag("tty-sigint"),
        "--work-dir",
        workDir,
      ],
      { columns, rows: 24 },
    );
    // Under a shared engine the checkout, plan and buildbase can take minutes before python starts.
    const building = await tty.waitFor(/^ +\S python +\d+(\.\d)?s/, 480_000);
    const pythonRow = building.find((row) => /^ +\S python +\d/.test(row)) ?? "";
    expect(spinning(pythonRow), `the running component spins: ${pythonRow}`).toBe(true);
    const waiting = building.filter((row) => row.includes(" waiting"));
    expect(waiting.map((row) => row.trim())).toEqual(["· onnxruntime  waiting", "· checksum  waiting"]);
    expect(waiting.filter(spinning)).toEqual([]);

    await tty.press("C-c");
    expect(await tty.exitCode(30_000)).toBe(130);
    const rows = await tty.screen();
    const at = (pattern: RegExp) => rows.findIndex((row) => pattern.test(row));

    expect(rows.filter(spinning), "nothing spins after the end").toEqual([]);
    const pythonRows = rows.filter((row) => /^ +\S python /.test(row));
    expect(pythonRows, "python has one row, its last state").toHaveLength(1);
    expect(pythonRows[0]).toMatch(/^ +■ python +interrupted after [\d.]+s$/);
    expect(rows.filter((row) => /onnxruntime|checksum/.test(row) && /^ /.test(row) && !/^ +(onnxruntime|checksum) +not run/.test(row))).toEqual([
      "    · onnxruntime  not run",
      "    · checksum  not run",
    ]);
    const notice = at(/^SIGINT: stopping; compiling ends now/);
    // In the order things happened: the notice at once, then the builder's end, the summary, the error, the exit.
    expect(notice, rows.join("\n")).toBeGreaterThanOrEqual(0);
    expect(notice).toBeLessThan(at(/^ +■ python +interrupted/));
    expect(at(/^ +■ python +interrupted/)).toBeLessThan(at(/^Result +interrupted$/));
    expect(at(/^Result +interrupted$/)).toBeLessThan(at(/^error: interrupted by SIGINT/));
    expect(at(/^error: interrupted by SIGINT/)).toBeLessThan(at(/^tb-exited-with 130$/));

    // Rows of the list fit the terminal; messages (the notice, errors) may wrap, and are whole.
    const joined = await tty.screen({ joined: true });
    expect(joined).toContain("SIGINT: stopping; compiling ends now, components that finished are kept in the cache (press Ctrl-C again to quit at once)");
    const listRows = joined.filter((row) => /^(✔|✖|■|-|\s{2,})/.test(row));
    expect(listRows.filter((row) => visibleWidth(row) > columns)).toEqual([]);
  });

  it("--quiet prints only the summary; plain output ends with the same summary", async () => {
    const quiet = await runCli(["--preset", small, ...world.args(), "--tag", world.tag("quiet"), "--quiet"], { tempDir: temp });
    expect(quiet.exitCode, quiet.stderr).toBe(0);
    expect(quiet.stderr).toBe("");
    const lines = quiet.stdout.split("\n").filter(Boolean);
    expect(lines[0]).toMatch(/^Image +triton-build-test\/quiet:/);
    expect(
      lines.every((line) => /^(Image|Time|Cache|Components|Not needed|Logs|) +\S/.test(line)),
      quiet.stdout,
    ).toBe(true);

    const plain = await runCli(["--preset", small, ...world.args(), "--tag", world.tag("plain")], { tempDir: temp });
    expect(plain.exitCode, plain.stderr).toBe(0);
    const summary = plain.stdout.slice(plain.stdout.lastIndexOf("\nImage ") + 1);
    expect(summary).toMatch(/^Image +triton-build-test\/plain:\S+ +[0-9a-f]{12}, /);
    expect(summary).toMatch(/^Logs +\/\S+\/logs$/m);
    expect(plain.stdout).not.toContain("\u001b");
  });
});
