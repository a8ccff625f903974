import { Listr, type DefaultRenderer, type ListrTask, type ListrTaskWrapper, type SimpleRenderer } from "listr2";
import { PHASE_TITLES, type BuildEvent, type ComponentSummary, type Phase } from "../run/events.js";
import type { EventHub } from "./event-hub.js";
import { formatDuration } from "./format.js";

type Task = ListrTaskWrapper<unknown, typeof DefaultRenderer, typeof SimpleRenderer>;

/**
 * The terminal view: a listr2 task list that mirrors the run's events. One task per phase; the
 * builder phase has one subtask per component with its state, elapsed time, latest output line
 * and cmake percentage. The list is a view only: it never drives the build.
 */
export function createTaskList(hub: EventHub, phases: readonly Phase[], titles: Record<Phase, string> = PHASE_TITLES): Listr {
  const tasks: ListrTask[] = phases.map((phase) => ({
    title: titles[phase],
    task: (_ctx, task: Task) => mirrorPhase(hub, phase, task, titles),
  }));
  return new Listr(tasks, {
    concurrent: false,
    exitOnError: true,
    // Ctrl-C belongs to the session: it aborts the run so its container is removed (listr2's own
    // handler would exit at once, leaving the container behind).
    registerSignalListeners: false,
    renderer: "default",
    rendererOptions: { collapseSubtasks: false, collapseSkips: false, showErrorMessage: true },
  });
}

async function mirrorPhase(hub: EventHub, phase: Phase, task: Task, titles: Record<Phase, string>): Promise<Listr | undefined> {
  const start = await hub.next((e) => e.type === "phase-start" && e.phase === phase);
  if (!start) {
    task.skip(`${titles[phase]}: not run`);
    return;
  }
  const skipped = hub.past((e) => e.type === "phase-end" && e.phase === phase && e.status === "skipped");
  if (phase === "builder" && !skipped) return componentList(hub, task, titles);
  const cached: Array<Extract<BuildEvent, { type: "component-cached" }>> = [];
  const unsubscribe = hub.subscribe((event) => {
    if (event.type === "phase-output" && event.phase === phase) {
      task.output = event.step ? `step ${event.step.current}/${event.step.total}  ${event.line}` : event.line;
    }
    if (event.type === "component-cached") {
      cached.push(event);
      task.output = cachedText(event);
    }
  });
  try {
    await finishPhase(hub, phase, task, titles);
  } finally {
    unsubscribe();
  }
  if (cached.length) {
    const saved = cached.reduce((sum, e) => sum + (e.savedMs ?? 0), 0);
    task.title = `${task.title}: ${cached.map((e) => `${e.name}${e.source === "remote" ? " (remote)" : ""}`).join(", ")} restored, ${formatDuration(saved)} of build time saved`;
  }
}

/** Waits for the phase to end and shows how; returns its duration when it succeeded. */
async function finishPhase(hub: EventHub, phase: Phase, task: Task, titles: Record<Phase, string>): Promise<number | undefined> {
  const end = await hub.next((e): e is Extract<BuildEvent, { type: "phase-end" }> => e.type === "phase-end" && e.phase === phase);
  if (!end) throw new Error(`${titles[phase]}: interrupted`);
  if (end.status === "skipped") {
    task.skip(`${titles[phase]}: skipped${end.detail ? ` (${end.detail})` : ""}`);
    return undefined;
  }
  if (end.status === "failed") throw new Error(end.detail ?? `${titles[phase]} failed`);
  task.title = `${titles[phase]} (${formatDuration(end.durationMs)})`;
  return end.durationMs;
}

async function componentList(hub: EventHub, task: Task, titles: Record<Phase, string>): Promise<Listr> {
  const plan = await hub.next((e): e is Extract<BuildEvent, { type: "plan" }> => e.type === "plan");
  const building = (plan?.components ?? []).filter((c) => c.action === "build");
  return task.newListr(
    [
      ...building.map((component) => ({ title: `${component.name} waiting`, task: (_ctx: unknown, sub: Task) => mirrorComponent(hub, component, sub) })),
      {
        title: "builder container",
        task: async (_ctx: unknown, sub: Task) => {
          const durationMs = await finishPhase(hub, "builder", sub, titles);
          sub.title = "builder container exited (removed when the run ends)";
          if (durationMs !== undefined) task.title = `${titles.builder} (${formatDuration(durationMs)})`;
        },
      },
    ],
    { concurrent: true, exitOnError: false, rendererOptions: { collapseSubtasks: false } },
  );
}

async function mirrorComponent(hub: EventHub, component: ComponentSummary, task: Task): Promise<void> {
  const started = await hub.next((e) => (e.type === "component-start" && e.name === component.name) || (e.type === "phase-end" && e.phase === "builder"));
  if (started?.type !== "component-start") {
    task.skip(`${component.name}: not run`);
    return;
  }
  // Where it compiles (engine/builder), so a run spread over builders and engines is readable.
  const where = started.engine !== undefined ? ` on ${started.engine}/${started.builder ?? 1}` : "";
  task.title = `${component.name} building${where}`;
  const startedAt = Date.now();
  let percent: number | undefined;
  const timer = setInterval(() => {
    task.title = `${component.name} building${where} ${formatDuration(Date.now() - startedAt)}${percent !== undefined ? ` [${percent}%]` : ""}`;
  }, 1000);
  const unsubscribe = hub.subscribe((event) => {
    if (event.type !== "component-output" || event.name !== component.name) return;
    if (event.percent !== undefined) percent = event.percent;
    task.output = event.line;
  });
  try {
    const end = await hub.next((e) => (e.type === "component-end" && e.name === component.name) || (e.type === "phase-end" && e.phase === "builder"));
    if (end?.type === "component-end" && end.status === "interrupted") {
      task.skip(`${component.name} interrupted after ${formatDuration(end.durationMs)}`);
      return;
    }
    if (end?.type === "component-end" && end.status !== "failed") {
      task.title = `${component.name} done in ${formatDuration(end.durationMs)}`;
      return;
    }
    throw new Error(`${component.name} failed${end?.type === "component-end" && end.logPath ? ` (log: ${end.logPath})` : ""}`);
  } finally {
    clearInterval(timer);
    unsubscribe();
  }
}

function cachedText(event: Extract<BuildEvent, { type: "component-cached" }>): string {
  return `${event.name}: cached (${event.source}), restored in ${formatDuration(event.restoreMs)}${event.savedMs ? `, saved ${formatDuration(event.savedMs)}` : ""}`;
}
