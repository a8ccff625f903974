// A real pseudo-terminal for tests of what people see: the CLI runs in a tmux pane of a given
// size, and the test reads the screen tmux shows (capture-pane), which is what "no stale rows"
// and "no line wider than the terminal" are about. Each terminal has its own tmux server
// (its own socket), removed at the end.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { CLI, cliEnv } from "./cli.js";

export interface Terminal {
  /**
   * Every row the pane showed, the scrollback included; `joined` puts wrapped rows back together,
   * `styled` keeps the escape sequences of colours and attributes.
   */
  screen(options?: { joined?: boolean; styled?: boolean }): Promise<string[]>;
  /** Waits until a row matches; the rows then. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string[]>;
  /** Waits for the CLI to end; its exit code. */
  exitCode(timeoutMs?: number): Promise<number>;
  press(key: string): Promise<void>;
  close(): Promise<void>;
}

const EXIT_MARK = "tb-exited-with";

export async function runInTerminal(
  args: string[],
  options: { tempDir: string; columns: number; rows: number; env?: Record<string, string>; cwd?: string },
): Promise<Terminal> {
  const socket = `tb-test-${randomBytes(4).toString("hex")}`;
  const tmux = (...tmuxArgs: string[]) => execa("tmux", ["-L", socket, "-f", "/dev/null", ...tmuxArgs], { reject: true });
  const env = { ...cliEnv(options.tempDir, options.env), TERM: "xterm-256color", LANG: "C.UTF-8" };
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  // The shell traps Ctrl-C (a trap, unlike an ignored signal, is not inherited), so it lives on
  // to print the CLI's exit code.
  const command = `trap true INT; cd ${quote(options.cwd ?? options.tempDir)} && node ${quote(CLI)} ${args.map(quote).join(" ")}; echo "${EXIT_MARK} $?"; sleep 3600`;
  await execa(
    "tmux",
    ["-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", String(options.columns), "-y", String(options.rows), "sh", "-c", command],
    { env, extendEnv: false },
  );
  await tmux("set-option", "-t", "t", "history-limit", "10000");
  await tmux("set-option", "-t", "t", "remain-on-exit", "on");

  const screen = async ({ joined = false, styled = false } = {}) => {
    const { stdout } = await tmux("capture-pane", "-p", "-t", "t", "-S", "-", "-E", "-", ...(joined ? ["-J"] : []), ...(styled ? ["-e"] : []));
    const lines = stdout.split("\n").map((line) => line.trimEnd());
    while (lines.length && lines.at(-1) === "") lines.pop();
    return lines;
  };
  const waitFor = async (pattern: RegExp, timeoutMs = 120_000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const rows = await screen();
      if (rows.some((row) => pattern.test(row))) return rows;
      if (Date.now() > until) throw new Error(`the terminal never showed ${String(pattern)}; it shows:\n${rows.join("\n")}`);
      await sleep(100);
    }
  };
  return {
    screen,
    waitFor,
    async exitCode(timeoutMs = 300_000) {
      const rows = await waitFor(new RegExp(`^${EXIT_MARK} \\d+$`), timeoutMs);
      const mark = rows.find((row) => row.startsWith(EXIT_MARK)) ?? "";
      return Number(mark.split(" ")[1]);
    },
    async press(key) {
      await tmux("send-keys", "-t", "t", key);
    },
    async close() {
      await execa("tmux", ["-L", socket, "kill-server"], { reject: false });
    },
  };
}
