import type { BuildEvent, Emit, Phase, RunResult } from "../run/events.js";
import { ExitCode, InterruptedError } from "../errors.js";
import { EventHub } from "../progress/event-hub.js";
import { createNdjsonRenderer } from "../progress/ndjson.js";
import { createPlainRenderer } from "../progress/plain.js";
import { ReportCollector } from "../progress/report.js";
import { formatSummary } from "../progress/summary.js";
import { paletteFor } from "../progress/terminal-text.js";
import { requestExit } from "./exit-request.js";
import type { Output } from "./output.js";

export interface SessionOptions {
  json: boolean;
  verbose: boolean;
  /** Only warnings, errors and the closing summary. */
  quiet: boolean;
  reportFile?: string;
  /** How the view titles each phase (compose titles some its own way). */
  phaseTitles?: Record<Phase, string>;
  /** stdout is a terminal: the live view; otherwise plain lines. */
  stdoutIsTTY: boolean;
}

/**
 * How the run is shown: NDJSON events (--json), only warnings (--quiet), the live view on a
 * terminal, or plain lines. All but --json end with the closing summary.
 */
interface Renderer {
  listener: (event: BuildEvent) => void;
  /** A line from the session itself (the Ctrl-C notice), shown at once and in order. */
  notice(text: string): void;
  /** The run is over: stop drawing. */
  end(): void;
}

/**
 * Runs one build or compose with its renderer, report and Ctrl-C handling. The first SIGINT,
 * SIGTERM or SIGHUP aborts the run (which removes its container) and leads to exit 130; a second one asks
 * the entry point to exit at once (exit-request.ts).
 */
export async function runSession<T>(output: Output, options: SessionOptions, run: (emit: Emit, signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let signalled = false;
  const onSignal = (name: NodeJS.Signals) => {
    // Every second signal is the user's: nothing loaded during a run re-sends signals (conf,
    // whose atomic writer does, is imported only by `config set`; see config/store.ts).
    if (signalled) {
      requestExit(ExitCode.interrupted);
      return;
    }
    signalled = true;
    renderer.notice(`${name}: stopping; removing this run's container (press Ctrl-C again to quit at once)`);
    controller.abort(new InterruptedError(`interrupted by ${name}`));
  };
  // SIGHUP: the terminal went away; the container must go too.
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const name of signals) process.on(name, onSignal);

  const hub = new EventHub();
  const report = new ReportCollector();
  hub.subscribe(report.listener);
  let result: RunResult | undefined;
  hub.subscribe((event) => {
    if (event.type === "result") result = event;
  });
  const renderer = await createRenderer(output, options);
  hub.subscribe(renderer.listener);

  try {
    return await run(hub.emit, controller.signal);
  } finally {
    hub.close();
    renderer.end();
    if (result && !options.json) {
      const palette = paletteFor(options.stdoutIsTTY);
      const width = options.stdoutIsTTY ? (process.stdout.columns || 80) - 1 : undefined;
      output.out(`\n${formatSummary(result, palette, width).join("\n")}`);
    }
    for (const name of signals) process.off(name, onSignal);
    if (options.reportFile) {
      await report
        .write(options.reportFile)
        .catch((error: unknown) => output.err(`warning: could not write the report ${options.reportFile}: ${String(error)}`));
    }
  }
}

async function createRenderer(output: Output, options: SessionOptions): Promise<Renderer> {
  const quietly = { notice: (text: string) => output.err(text), end: () => undefined };
  if (options.json) return { listener: createNdjsonRenderer((line) => output.out(line), options), ...quietly };
  if (options.quiet) {
    return { listener: (event) => (event.type === "warning" ? output.err(`warning: ${event.message}`) : undefined), ...quietly };
  }
  if (options.stdoutIsTTY) {
    const { LiveView } = await import("../progress/live.js");
    const view = new LiveView(
      {
        columns: () => process.stdout.columns || 80,
        rows: () => process.stdout.rows || 24,
        out: (text) => void process.stdout.write(text),
        err: (text) => void process.stderr.write(text),
      },
      paletteFor(true),
      options.phaseTitles,
    );
    return { listener: view.onEvent, notice: (text) => view.notice(text), end: () => view.end() };
  }
  return { listener: createPlainRenderer((line) => output.out(line), options), ...quietly };
}
