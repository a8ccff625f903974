import { describe, expect, it } from "vitest";
import { describeStrayOperand } from "./stray-operand.js";

const commands = ["build", "plan", "presets", "cache", "doctor", "config"];

describe("an operand the default command got", () => {
  it("a mistyped command is an unknown command, with a suggestion", () => {
    const error = describeStrayOperand("plna", { commands, typedCommand: false });
    expect(error.message).toBe("unknown command 'plna' (did you mean 'plan'?)");
    expect(error.exitCode).toBe(2);
    expect(describeStrayOperand("xyzzy", { commands, typedCommand: false }).message).toBe("unknown command 'xyzzy'");
  });

  it("a command after options, and an argument to an explicit build", () => {
    expect(describeStrayOperand("plan", { commands, typedCommand: false }).message).toBe("the command 'plan' must come first, before any option");
    expect(describeStrayOperand("x", { commands, typedCommand: true }).message).toBe("unexpected argument 'x': build takes options only");
  });
});
