import { appendFile, mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { CacheLayout } from "./layout.js";

/** One line per build in runs.ndjson: the hit ratio `cache stats` shows. */

export interface RunRecord {
  time: string;
  preset: string;
  hits: number;
  misses: number;
}

export async function recordRun(layout: CacheLayout, run: Omit<RunRecord, "time">): Promise<void> {
  await mkdir(path.dirname(layout.runLog), { recursive: true });
  await appendFile(layout.runLog, `${JSON.stringify({ time: new Date().toISOString(), ...run })}\n`);
}

/** The last `limit` runs; unreadable lines are skipped. */
export async function recentRuns(layout: CacheLayout, limit = 20): Promise<RunRecord[]> {
  const text = await readFile(layout.runLog, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .slice(-limit)
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as RunRecord];
      } catch {
        return [];
      }
    });
}
