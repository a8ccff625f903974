import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { finished } from "node:stream/promises";
import { parseMarker } from "../../buildpy/rewrite.js";
import { LineSplitter } from "../../util/line-splitter.js";
import type { Emit } from "../../run/events.js";

/**
 * Splits the builder container's output by the begin/end markers of the rewritten cmake_build:
 * each component's lines go to `logs/<component>.log` and become events with timing and a
 * percentage when cmake prints `[ NN%]`. Lines outside any section go to `logs/builder.log`.
 *
 * Memory stays flat whatever the log volume: lines are handled as byte slices and decoded only
 * when they may be markers or progress; output events are throttled (every line only with
 * --verbose); and when a log file cannot keep up, `write` asks the caller to wait.
 */

export interface ComponentTiming {
  name: string;
  startedAt: number;
  endedAt?: number;
}

const TAIL = 40;
/** Markers are looked for anywhere in a line: a tool's `\r` progress output may precede one. */
const MARKER = Buffer.from("@@triton-build:");
const PROGRESS_START = 0x5b; // "["
const OUTPUT_EVENT_INTERVAL_MS = 200;

export class ComponentLogDemux {
  private current: ComponentTiming | undefined;
  private readonly streams = new Map<string, WriteStream>();
  private readonly tails = new Map<string, Buffer[]>();
  private readonly splitter = new LineSplitter((line) => this.line(line));
  private lastOutputEventAt = 0;
  private lastPercent: number | undefined;
  private pending: WriteStream | undefined;
  readonly timings: ComponentTiming[] = [];
  /** The first error writing a log (disk full, no permission): the caller reports it after the run. */
  error: Error | undefined;

  constructor(
    private readonly logDir: string,
    private readonly nonce: string,
    private readonly emit: Emit,
    private readonly options: { everyLine?: boolean; now?: () => number; where?: { engine: string; builder: number } } = {},
  ) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  async open(): Promise<void> {
    await mkdir(this.logDir, { recursive: true });
  }

  logPath(name: string): string {
    return path.join(this.logDir, `${name}.log`);
  }

  /** Feeds raw output; returns a promise when a log file is behind and the producer should wait. */
  write(chunk: Buffer): Promise<void> | undefined {
    this.splitter.push(chunk);
    const behind = this.pending;
    this.pending = undefined;
    if (!behind || this.error) return undefined;
    return new Promise((resolve) => {
      const done = () => {
        behind.off("drain", done);
        behind.off("error", done);
        resolve();
      };
      behind.once("drain", done);
      behind.once("error", done);
    });
  }

  /** Text form, for callers that already have lines. */
  line(raw: Buffer | string): void {
    const line = typeof raw === "string" ? Buffer.from(raw.replace(/\r$/, "")) : raw;
    const at = line.indexOf(MARKER);
    const marker = at >= 0 ? parseMarker(line.subarray(at).toString(), this.nonce) : undefined;
    if (marker) {
      if (at > 0) this.line(line.subarray(0, at));
      this.applyMarker(marker);
      return;
    }
    const owner = this.current?.name ?? "builder";
    this.append(owner, line);
    if (!this.current) return;
    let percent: number | undefined;
    if (line[0] === PROGRESS_START) {
      const match = /^\[\s*(\d{1,3})%\]/.exec(line.subarray(0, 8).toString());
      if (match) percent = Number(match[1]);
    }
    const now = this.now();
    const percentChanged = percent !== undefined && percent !== this.lastPercent;
    if (this.options.everyLine || percentChanged || now - this.lastOutputEventAt >= OUTPUT_EVENT_INTERVAL_MS) {
      this.lastOutputEventAt = now;
      if (percent !== undefined) this.lastPercent = percent;
      this.emit({ type: "component-output", name: owner, line: line.toString(), percent });
    }
  }

  private applyMarker(marker: { edge: "begin" | "end"; name: string }): void {
    if (marker.edge === "begin") {
      this.current = { name: marker.name, startedAt: this.now() };
      // Events and the report name this file: it exists even if the component prints nothing.
      this.streamFor(marker.name);
      this.timings.push(this.current);
      this.lastPercent = undefined;
      this.emit({ type: "component-start", name: marker.name, ...this.options.where });
      return;
    }
    const timing = this.timings.find((t) => t.name === marker.name && t.endedAt === undefined);
    if (timing) {
      timing.endedAt = this.now();
      this.emit({ type: "component-end", name: marker.name, status: "ok", durationMs: timing.endedAt - timing.startedAt, logPath: this.logPath(marker.name) });
    }
    this.current = undefined;
  }

  /** The component that began and did not end: the one that failed. */
  unfinished(): ComponentTiming | undefined {
    return this.timings.find((t) => t.endedAt === undefined);
  }

  tail(name: string): string[] {
    return (this.tails.get(name) ?? []).map((b) => b.toString());
  }

  private streamFor(name: string): WriteStream {
    let stream = this.streams.get(name);
    if (!stream) {
      stream = createWriteStream(this.logPath(name), { flags: "a" });
      stream.on("error", (error) => (this.error ??= error));
      this.streams.set(name, stream);
    }
    return stream;
  }

  private append(name: string, line: Buffer): void {
    const stream = this.streamFor(name);
    if (this.error) return;
    stream.write(line);
    if (!stream.write("\n")) this.pending = stream;
    const tail = this.tails.get(name) ?? [];
    tail.push(Buffer.from(line));
    if (tail.length > TAIL) tail.shift();
    this.tails.set(name, tail);
  }

  async close(): Promise<void> {
    this.splitter.end();
    const streams = [...this.streams.values()];
    for (const stream of streams) stream.end();
    await Promise.all(streams.map((s) => finished(s).catch(() => undefined)));
  }
}
