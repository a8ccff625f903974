/**
 * The tar format as far as cache entries need it: writing ustar headers (with a pax header for
 * long names, link targets and sizes), and reading a tar stream incrementally, with pax and GNU
 * long-name headers applied. Reading reports every member's type as it is; what may be written to
 * disk is decided by the caller, never here.
 */

const BLOCK = 512;
/** Extended headers (pax, GNU long names) larger than this are refused: real ones are tiny. */
const MAX_EXTENDED_HEADER = 1 << 20;

export type TarMember =
  | { type: "file"; path: string; mode: number; size: number }
  | { type: "dir"; path: string; mode: number }
  | { type: "symlink"; path: string; target: string };

/** The two zero blocks that end an archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK);

export function tarPadding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The header block(s) of one member: a pax header first when a name, target or size does not fit ustar. */
export function tarHeader(member: TarMember): Buffer {
  const name = member.type === "dir" ? `${member.path}/` : member.path;
  const target = member.type === "symlink" ? member.target : "";
  const size = member.type === "file" ? member.size : 0;
  const records: string[] = [];
  if (!fitsField(name, 100)) records.push(paxRecord("path", name));
  if (!fitsField(target, 100)) records.push(paxRecord("linkpath", target));
  if (size > 0o77777777777) records.push(paxRecord("size", String(size)));
  const typeflag = member.type === "file" ? "0" : member.type === "dir" ? "5" : "2";
  const mode = member.type === "symlink" ? 0o777 : member.mode;
  const main = ustarBlock({ name, mode, size: records.length && size > 0o77777777777 ? 0 : size, typeflag, linkname: target });
  if (!records.length) return main;
  const body = Buffer.from(records.join(""), "utf8");
  const pax = ustarBlock({ name: `PaxHeaders/${name}`, mode: 0o644, size: body.length, typeflag: "x", linkname: "" });
  return Buffer.concat([pax, body, tarPadding(body.length), main]);
}

function fitsField(text: string, length: number): boolean {
  return Buffer.byteLength(text) <= length && /^[\x20-\x7e]*$/.test(text);
}

/** `"<length> key=value\n"`, where length counts the whole record, itself included. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(rest) + 1;
  while (String(length).length + Buffer.byteLength(rest) !== length) length = String(length).length + Buffer.byteLength(rest);
  return `${length}${rest}`;
}

function ustarBlock(fields: { name: string; mode: number; size: number; typeflag: string; linkname: string }): Buffer {
  const block = Buffer.alloc(BLOCK);
  const text = (value: string, offset: number, length: number) => block.write(value, offset, Math.min(length, Buffer.byteLength(value)), "utf8");
  const octal = (value: number, offset: number, length: number) => text(`${value.toString(8).padStart(length - 1, "0")}\0`, offset, length);
  text(truncate(fields.name, 100), 0, 100);
  octal(fields.mode, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(fields.size, 124, 12);
  octal(0, 136, 12);
  block.fill(0x20, 148, 156);
  text(fields.typeflag, 156, 1);
  text(truncate(fields.linkname, 100), 157, 100);
  text("ustar\0", 257, 6);
  text("00", 263, 2);
  let sum = 0;
  for (const byte of block) sum += byte;
  text(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return block;
}

/** The first bytes of a text that fit a field (the full text is in the pax header). */
function truncate(value: string, length: number): string {
  const bytes = Buffer.from(value, "utf8");
  return bytes.length <= length ? value : bytes.subarray(0, length).toString("latin1");
}

/** A member as read: `kind` says what the archive claims it is, whatever that is. */
export interface ReadMember {
  kind: "file" | "dir" | "symlink" | "hardlink" | "char-device" | "block-device" | "fifo" | "other";
  /** The type flag as found (e.g. "0", "5", "3"). */
  typeflag: string;
  path: string;
  /** Every mode bit the header carries, setuid/setgid/sticky included. */
  mode: number;
  size: number;
  linkname: string;
}

export type TarEvent = { event: "member"; member: ReadMember } | { event: "data"; chunk: Buffer } | { event: "end" };

export class TarFormatError extends Error {}

/**
 * Reads a tar stream: for each member its header, then its data in chunks, then "end". The
 * stream is read to its very end, also past the end-of-archive blocks, so that whatever checks
 * the bytes as they pass (a blob's digest) sees all of them.
 */
export async function* readTar(source: AsyncIterable<Buffer>): AsyncGenerator<TarEvent> {
  let pending: Buffer = Buffer.alloc(0);
  let state: "header" | "data" | "extended" | "padding" | "done" = "header";
  let remaining = 0;
  let padding = 0;
  let extended: { typeflag: string; parts: Buffer[] } | undefined;
  let overrides: { path?: string; linkname?: string; size?: number } = {};

  for await (const input of source) {
    pending = pending.length ? Buffer.concat([pending, input]) : input;
    let offset = 0;
    while (offset < pending.length) {
      if (state === "done") {
        offset = pending.length;
        break;
      }
      if (state === "data" || state === "extended") {
        const take = Math.min(remaining, pending.length - offset);
        const chunk = pending.subarray(offset, offset + take);
        offset += take;
        remaining -= take;
        if (state === "data") {
          if (chunk.length) yield { event: "data", chunk };
          if (remaining === 0) {
            yield { event: "end" };
            state = "padding";
          }
        } else {
          extended?.parts.push(Buffer.from(chunk));
          if (remaining === 0) {
            overrides = applyExtended(extended!, overrides);
            extended = undefined;
            state = "padding";
          }
        }
        continue;
      }
      if (state === "padding") {
        const skip = Math.min(padding, pending.length - offset);
        offset += skip;
        padding -= skip;
        if (padding === 0) state = "header";
        continue;
      }
      if (pending.length - offset < BLOCK) break;
      const block = pending.subarray(offset, offset + BLOCK);
      offset += BLOCK;
      if (block.every((byte) => byte === 0)) {
        state = "done";
        continue;
      }
      const header = parseHeader(block);
      const size =
        header.typeflag === "x" || header.typeflag === "g" || header.typeflag === "L" || header.typeflag === "K"
          ? header.size
          : (overrides.size ?? header.size);
      padding = (BLOCK - (size % BLOCK)) % BLOCK;
      if (header.typeflag === "x" || header.typeflag === "g" || header.typeflag === "L" || header.typeflag === "K") {
        if (size > MAX_EXTENDED_HEADER) throw new TarFormatError(`an extended header of ${size} bytes`);
        extended = { typeflag: header.typeflag, parts: [] };
        remaining = size;
        state = "extended";
        if (!size) {
          overrides = applyExtended(extended, overrides);
          extended = undefined;
          state = "header";
        }
        continue;
      }
      const member: ReadMember = {
        kind: kindOf(header.typeflag),
        typeflag: header.typeflag,
        path: overrides.path ?? header.name,
        mode: header.mode,
        size: header.typeflag === "5" || header.typeflag === "2" || header.typeflag === "1" ? 0 : size,
        linkname: overrides.linkname ?? header.linkname,
      };
      overrides = {};
      yield { event: "member", member };
      remaining = member.size;
      padding = (BLOCK - (member.size % BLOCK)) % BLOCK;
      if (remaining > 0) state = "data";
      else {
        yield { event: "end" };
        state = padding ? "padding" : "header";
      }
    }
    pending = offset < pending.length ? pending.subarray(offset) : Buffer.alloc(0);
  }
  if (state === "padding" && padding === 0) state = "header";
  if (state !== "done" && (state !== "header" || pending.length)) throw new TarFormatError("the archive ends in the middle of a member");
  if (state !== "done") throw new TarFormatError("the archive has no end-of-archive blocks");
}

function kindOf(typeflag: string): ReadMember["kind"] {
  switch (typeflag) {
    case "0":
    case "\0":
    case "7":
      return "file";
    case "5":
      return "dir";
    case "2":
      return "symlink";
    case "1":
      return "hardlink";
    case "3":
      return "char-device";
    case "4":
      return "block-device";
    case "6":
      return "fifo";
    default:
      return "other";
  }
}

function parseHeader(block: Buffer): { name: string; mode: number; size: number; typeflag: string; linkname: string } {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  const stored = parseNumber(block.subarray(148, 156));
  if (stored !== sum) throw new TarFormatError("a header's checksum does not match");
  const magic = block.subarray(257, 263).toString("latin1");
  const name = cString(block.subarray(0, 100));
  const prefix = magic === "ustar\0" ? cString(block.subarray(345, 500)) : "";
  return {
    name: prefix ? `${prefix}/${name}` : name,
    mode: parseNumber(block.subarray(100, 108)),
    size: parseNumber(block.subarray(124, 136)),
    typeflag: String.fromCharCode(block[156]!),
    linkname: cString(block.subarray(157, 257)),
  };
}

function cString(field: Buffer): string {
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString("utf8");
}

/** Octal text, or GNU's base-256 (high bit set) for large values. */
function parseNumber(field: Buffer): number {
  if (field[0]! & 0x80) {
    let value = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    if (!Number.isSafeInteger(value)) throw new TarFormatError("a header number is too large");
    return value;
  }
  const text = field
    .toString("latin1")
    .replace(/[\0 ]+$/, "")
    .trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`a header number '${text}' is not octal`);
  return Number.parseInt(text, 8);
}

function applyExtended(extended: { typeflag: string; parts: Buffer[] }, overrides: { path?: string; linkname?: string; size?: number }) {
  const body = Buffer.concat(extended.parts);
  if (extended.typeflag === "L") return { ...overrides, path: cString(body) };
  if (extended.typeflag === "K") return { ...overrides, linkname: cString(body) };
  // A global header applies to every later member; none of its keys matter here, so it is read and dropped.
  if (extended.typeflag === "g") return overrides;
  const result = { ...overrides };
  let offset = 0;
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    const length = space === -1 ? Number.NaN : Number(body.subarray(offset, space).toString("latin1"));
    if (!Number.isInteger(length) || length <= 0 || offset + length > body.length) throw new TarFormatError("a pax header is malformed");
    const record = body.subarray(space + 1, offset + length - 1).toString("utf8");
    const equals = record.indexOf("=");
    const key = record.slice(0, equals);
    const value = record.slice(equals + 1);
    if (key === "path") result.path = value;
    else if (key === "linkpath") result.linkname = value;
    else if (key === "size") {
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new TarFormatError(`a pax size '${value}' is not a number`);
      result.size = Number(value);
    }
    offset += length;
  }
  return result;
}
