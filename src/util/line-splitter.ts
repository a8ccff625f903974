const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
/** A line longer than this is cut: a tool printing megabytes without a newline must not grow memory. */
const MAX_LINE = 64 * 1024;

/**
 * Splits a byte stream into lines without decoding it: each line is a Buffer slice (no `\n`,
 * no trailing `\r`). Decoding only the lines that matter keeps a build that prints millions of
 * lines cheap in memory.
 */
export class LineSplitter {
  private carry: Buffer | undefined;

  constructor(private readonly onLine: (line: Buffer) => void) {}

  push(chunk: Buffer): void {
    let data = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = undefined;
    let start = 0;
    for (let i = data.indexOf(NEWLINE); i >= 0; i = data.indexOf(NEWLINE, start)) {
      this.emit(data.subarray(start, i));
      start = i + 1;
    }
    data = data.subarray(start);
    while (data.length > MAX_LINE) {
      this.emit(data.subarray(0, MAX_LINE));
      data = data.subarray(MAX_LINE);
    }
    // Copy the rest, so the chunk it came from can be freed.
    if (data.length) this.carry = Buffer.from(data);
  }

  end(): void {
    if (this.carry?.length) this.emit(this.carry);
    this.carry = undefined;
  }

  private emit(line: Buffer): void {
    this.onLine(line.length && line[line.length - 1] === CARRIAGE_RETURN ? line.subarray(0, -1) : line);
  }
}
