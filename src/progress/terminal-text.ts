import { stripVTControlCharacters as stripAnsi } from "node:util";

/** Colours for a terminal; all plain when colour is off (NO_COLOR, or not a terminal). */
export interface Palette {
  dim(text: string): string;
  bold(text: string): string;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

const wrap = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;

export const COLOURS: Palette = {
  dim: wrap(2, 22),
  bold: wrap(1, 22),
  green: wrap(32, 39),
  red: wrap(31, 39),
  yellow: wrap(33, 39),
  cyan: wrap(36, 39),
};

const same = (text: string) => text;
export const NO_COLOURS: Palette = { dim: same, bold: same, green: same, red: same, yellow: same, cyan: same };

/** https://no-color.org: any non-empty NO_COLOR turns colour off; FORCE_COLOR=0 too. */
export function paletteFor(isTTY: boolean, env: NodeJS.ProcessEnv = process.env): Palette {
  if (!isTTY || env.NO_COLOR || env.FORCE_COLOR === "0" || env.TERM === "dumb") return NO_COLOURS;
  return COLOURS;
}

// East Asian wide characters and emoji take two columns; combining marks and zero-width ones none.
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|\p{Extended_Pictographic}/u;
const ZERO = /[\p{M}\u200b-\u200f\u2060\ufeff]/u;

function columnsOf(char: string): number {
  if (ZERO.test(char)) return 0;
  if (char < " " || char === "\u007f") return 0;
  return WIDE.test(char) ? 2 : 1;
}

/** Columns the text takes on a terminal (escape sequences take none). */
export function visibleWidth(text: string): number {
  let width = 0;
  for (const char of stripAnsi(text)) width += columnsOf(char);
  return width;
}

// An escape sequence at the start of the rest of a string: kept whole, never cut.
const ESCAPE = /^(?:\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_])/;

/**
 * The text cut to `width` columns, with `…` where it was cut. Escape sequences stay (a colour
 * opened before the cut is closed with a reset), tabs become spaces, and control characters that
 * would move the cursor (carriage returns, backspaces) are dropped, so one line stays one row.
 */
export function cutToWidth(text: string, width: number): string {
  const clean = text.replace(/\t/g, "  ");
  if (visibleWidth(clean) <= width) return dropControls(clean);
  let out = "";
  let used = 0;
  let styled = false;
  for (let i = 0; i < clean.length; ) {
    const sequence = ESCAPE.exec(clean.slice(i));
    if (sequence) {
      out += sequence[0];
      styled = true;
      i += sequence[0].length;
      continue;
    }
    const char = String.fromCodePoint(clean.codePointAt(i) ?? 32);
    const columns = columnsOf(char);
    if (used + columns > width - 1) break;
    if (columns > 0 || ZERO.test(char)) out += char;
    used += columns;
    i += char.length;
  }
  return `${out}…${styled ? "\u001b[0m" : ""}`;
}

/** The text whole (no cut), with the same cleaning as cutToWidth: a message may wrap, but never move the cursor. */
export function withoutControls(text: string): string {
  return dropControls(text.replace(/\t/g, "  "));
}

function dropControls(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; ) {
    const sequence = ESCAPE.exec(text.slice(i));
    if (sequence) {
      out += sequence[0];
      i += sequence[0].length;
      continue;
    }
    const char = String.fromCodePoint(text.codePointAt(i) ?? 32);
    if (!(char < " " || char === "\u007f")) out += char;
    i += char.length;
  }
  return out;
}
