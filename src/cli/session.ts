import type { Emit, Phase } from "../run/events.js";
import { ExitCode, InterruptedError } from "../errors.js";
import { EventHub } from "../progress/event-hub.js";
import { createNdjsonRenderer } from "../progress/ndjson.js";
import { createPlainRenderer } from "../progress/plain.js";
import { ReportCollector } from "../progress/report.js";
import { requestExit } from "./exit-request.js";
import type { Output } from "./output.js";

export interface SessionOptions {
  json: boolean;
  verbose: boolean;
  reportFile?: string;
  phases: readonly Phase[];
  /** How the task list titles each phase (compose titles some its own way). */
  phaseTitles?: Record<Phase, string>;
  /** stdout is a terminal: live task list; otherwise plain lines. */
  stdoutIsTTY: boolean;
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
    output.err(`\n${name}: stopping; removing this run's container (press Ctrl-C again to quit at once)`);
    controller.abort(new InterruptedError(`interrupted by ${name}`));
  };
  // SIGHUP: the terminal went away; the container must go too.
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const name of signals) process.on(name, onSignal);

  const hub = new EventHub();
  const report = new ReportCollector();
  hub.subscribe(report.listener);
  let rendered: Promise<unknown> = Promise.resolve();
  const notes: string[] = [];
  if (options.json) {
    hub.subscribe(createNdjsonRenderer((line) => output.out(line), options));
  } else if (options.stdoutIsTTY) {
    // listr2 is loaded only for a terminal. It redraws the screen, so warnings and notes are
    // kept and printed once it is done.
    const { createTaskList } = await import("../progress/listr.js");
    hub.subscribe((event) => {
      if (event.type === "warning") notes.push(`warning: ${event.message}`);
      else if (event.type === "info") notes.push(event.message);
    });
    rendered = createTaskList(hub, options.phases, options.phaseTitles)
      .run()
      .catch(() => undefined);
  } else {
    hub.subscribe(createPlainRenderer((line) => output.out(line), options));
  }

  try {
    return await run(hub.emit, controller.signal);
  } finally {
    hub.close();
    await rendered;
    for (const note of notes) output.err(note);
    for (const name of signals) process.off(name, onSignal);
    if (options.reportFile) {
      await report
        .write(options.reportFile)
        .catch((error: unknown) => output.err(`warning: could not write the report ${options.reportFile}: ${String(error)}`));
    }
  }
}
