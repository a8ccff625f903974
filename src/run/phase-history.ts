import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { writeJsonAtomically } from "../util/json-file.js";

/**
 * What the phases a fully cached run skips cost when they last ran: the buildbase image and the
 * builder container's own overhead (creating, starting, stopping it, without the compiling). The
 * closing summary counts them as time saved. Kept in the cache dir per buildbase Dockerfile (its
 * text fixes what that image holds), newest record wins; an estimate, never a promise.
 */
export interface PhaseCosts {
  buildbaseMs?: number;
  builderOverheadMs?: number;
}

const FILE = "phase-times.json";
const KEEP = 50;

interface CostRecord {
  recordedAt: string;
  costs: PhaseCosts;
}

export class PhaseHistory {
  private readonly file: string;

  constructor(cacheDir: string) {
    this.file = path.join(cacheDir, FILE);
  }

  static key(buildbaseDockerfile: string): string {
    return createHash("sha256").update(buildbaseDockerfile).digest("hex").slice(0, 16);
  }

  /** The costs recorded for this buildbase, or undefined (never built here, or an unreadable file). */
  async estimate(key: string): Promise<PhaseCosts | undefined> {
    return (await this.read())[key]?.costs;
  }

  /** Written to a temporary name and renamed: a reader never sees half a file. */
  async record(key: string, costs: PhaseCosts): Promise<void> {
    const all = await this.read();
    all[key] = { recordedAt: new Date().toISOString(), costs };
    const newest = Object.entries(all)
      .sort(([, a], [, b]) => b.recordedAt.localeCompare(a.recordedAt))
      .slice(0, KEEP);
    await writeJsonAtomically(this.file, Object.fromEntries(newest), 2);
  }

  private async read(): Promise<Record<string, CostRecord>> {
    try {
      const parsed: unknown = JSON.parse(await readFile(this.file, "utf8"));
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {};
      return Object.fromEntries(Object.entries(parsed as Record<string, unknown>).filter(([, value]) => isRecord(value))) as Record<string, CostRecord>;
    } catch {
      return {};
    }
  }
}

function isRecord(value: unknown): value is CostRecord {
  if (typeof value !== "object" || value === null) return false;
  const { recordedAt, costs } = value as { recordedAt?: unknown; costs?: unknown };
  if (typeof recordedAt !== "string" || typeof costs !== "object" || costs === null) return false;
  return Object.values(costs).every((ms) => typeof ms === "number" && Number.isFinite(ms) && ms >= 0);
}
