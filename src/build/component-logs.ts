import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { finished } from "node:stream/promises";
import { parseMarker } from "../buildpy/rewrite.js";
import type { Emit } from "./events.js";

/**
 * Splits the builder container's output by the begin/end markers of the rewritten cmake_build:
 * each component's lines go to `logs/<component>.log` and become events with timing and a
 * percentage when cmake prints `[ NN%]`. Lines outside any section go to `logs/builder.log`.
 */

export interface ComponentTiming {
  name: string;
  startedAt: number;
  endedAt?: number;
}

const TAIL = 40;

export class ComponentLogDemux {
  private current: ComponentTiming | undefined;
  private readonly streams = new Map<string, WriteStream>();
  private readonly tails = new Map<string, string[]>();
  readonly timings: ComponentTiming[] = [];

  constructor(
    private readonly logDir: string,
    private readonly nonce: string,
    private readonly emit: Emit,
    private readonly now: () => number = () => Date.now(),
  ) {}

  async open(): Promise<void> {
    await mkdir(this.logDir, { recursive: true });
  }

  logPath(name: string): string {
    return path.join(this.logDir, `${name}.log`);
  }

  line(raw: string): void {
    const text = raw.replace(/\r$/, "");
    const marker = parseMarker(text, this.nonce);
    if (marker?.edge === "begin") {
      this.current = { name: marker.name, startedAt: this.now() };
      this.timings.push(this.current);
      this.emit({ type: "component-start", name: marker.name });
      return;
    }
    if (marker?.edge === "end") {
      const timing = this.timings.find((t) => t.name === marker.name && t.endedAt === undefined);
      if (timing) {
        timing.endedAt = this.now();
        this.emit({ type: "component-end", name: marker.name, status: "ok", durationMs: timing.endedAt - timing.startedAt, logPath: this.logPath(marker.name) });
      }
      this.current = undefined;
      return;
    }
    const owner = this.current?.name ?? "builder";
    this.write(owner, text);
    if (this.current) {
      const percent = /^\[\s*(\d{1,3})%\]/.exec(text);
      this.emit({ type: "component-output", name: owner, line: text, ...(percent ? { percent: Number(percent[1]) } : {}) });
    }
  }

  /** The component that began and did not end: the one that failed. */
  unfinished(): ComponentTiming | undefined {
    return this.timings.find((t) => t.endedAt === undefined);
  }

  tail(name: string): string[] {
    return [...(this.tails.get(name) ?? [])];
  }

  private write(name: string, text: string): void {
    let stream = this.streams.get(name);
    if (!stream) {
      stream = createWriteStream(this.logPath(name), { flags: "a" });
      this.streams.set(name, stream);
    }
    stream.write(`${text}\n`);
    const tail = this.tails.get(name) ?? [];
    tail.push(text);
    if (tail.length > TAIL) tail.shift();
    this.tails.set(name, tail);
  }

  async close(): Promise<void> {
    const streams = [...this.streams.values()];
    for (const stream of streams) stream.end();
    await Promise.all(streams.map((s) => finished(s).catch(() => undefined)));
  }
}
