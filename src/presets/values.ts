/**
 * What a value must look like before build.py writes it into `cmake_build`, which bash runs in a
 * builder container that holds the Docker socket. r24.05's build.py writes component tags and the
 * organisation URL unquoted (`git clone ... -b TAG ORG/REPO.git DIR`, `git fetch origin TAG:...`)
 * and every CMake setting inside double quotes (`"-DNAME=VALUE"`, where `$`, backquote, `"` and
 * `\` still act) (server@r24.05:build.py#L296-327, #L329-436). So each value is held to what
 * git, URLs and CMake accept, written without any character the shell would act on.
 *
 * Each check returns what is wrong (for a message that also says where the value came from),
 * or undefined for a good value. Pure: tested by value.
 */

/** Characters bash acts on in an unquoted word (and inside double quotes: `$`, backquote, `"`, `\`). */
const SHELL_METACHARACTERS = new Set([..."|&;<>()$`\\\"' \t\n*?[]{}#~!"]);

/** C0 and C1 control characters (ESC, CSI...): they move the cursor or rewrite the screen. */
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
/** Line separators and bidi overrides: they change how a terminal lays text out. */
export const LAYOUT_CHARACTER = /[\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const SHOWN_ESCAPED = new RegExp(`${CONTROL_CHARACTER.source}|${LAYOUT_CHARACTER.source}`, "g");

/** A value as it can be shown on a terminal: quoted, control and direction characters escaped. */
export function showValue(value: string): string {
  const escaped = value.replace(SHOWN_ESCAPED, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return `'${escaped}'`;
}

/** The first character outside `allowed`, described for a message ("';', a shell metacharacter"). */
function firstBadCharacter(value: string, allowed: RegExp): string | undefined {
  for (const char of value) {
    if (allowed.test(char)) continue;
    if (char === "\ufffd") return "bytes that are not valid UTF-8 (shown as U+FFFD)";
    if (char === " ") return "a space, a shell metacharacter";
    if (CONTROL_CHARACTER.test(char)) return `a control character (${showValue(char).slice(1, -1)})`;
    if (SHELL_METACHARACTERS.has(char)) return `'${char}', a shell metacharacter`;
    return `'${char}'`;
  }
  return undefined;
}

const REF_CHARS = /[A-Za-z0-9._/+@%,=-]/;
const REF_RULE = "a git branch or tag has only letters, digits and . _ - / + @ % , =";

/**
 * A branch, tag or commit as `git clone -b`, `git fetch origin REF:` and `git check-ref-format`
 * accept it, and as a word bash leaves alone: `v0.9.0`, `r24.05`, `pull/123/head`.
 */
export function gitRefProblem(ref: string): string | undefined {
  if (ref === "") return "is empty; name a branch or tag, e.g. r24.05";
  if (ref.startsWith("-")) return "starts with '-', which git would read as an option";
  const bad = firstBadCharacter(ref, REF_CHARS);
  if (bad) return `contains ${bad}; ${REF_RULE}`;
  if (ref.length > 200) return "is longer than 200 characters";
  if (/^[./]|\/$|\.$|\.lock(\/|$)|\.\.|\/\/|\/\.|@\{/.test(ref)) {
    return "is not a valid git branch or tag name (git check-ref-format: no '..', '//', leading '.' or '/', trailing '/', '.' or '.lock')";
  }
  return undefined;
}

const URL_CHARS = /[A-Za-z0-9._~:/@%+=,-]/;

/**
 * Where build.py clones components from (`--github-organization`, `ORG/REPO.git`), or a
 * repository to clone: an http(s), ssh, git or file URL, scp-style `user@host:path`, or an
 * absolute path; written without shell metacharacters.
 */
export function repositoryUrlProblem(url: string): string | undefined {
  if (url === "") return "is empty";
  // build.py writes it unquoted after `git clone ... -b TAG`: `-ux@h:` would be an option of git.
  if (url.startsWith("-")) return "starts with '-', which git would read as an option";
  const bad = firstBadCharacter(url, URL_CHARS);
  if (bad) return `contains ${bad}; a repository URL here has only letters, digits and . _ ~ : / @ % + = , -`;
  if (!/^(https?|ssh|git):\/\/[^/]|^file:\/\/\/|^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:|^\//.test(url)) {
    return "is not a repository URL: expected https://host/path (or ssh://, git://, file://), user@host:path, or an absolute path";
  }
  return undefined;
}

/** A CMake cache variable as `-DNAME=VALUE` sets it: an identifier. */
export function cmakeNameProblem(name: string): string | undefined {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return undefined;
  const bad = firstBadCharacter(name, /[A-Za-z0-9_]/);
  return `is not a CMake variable name${bad ? `: it contains ${bad}` : ""}; expected letters, digits and _, e.g. TRITON_ENABLE_GPU`;
}

/**
 * A CMake value inside build.py's double quotes: printable ASCII, without the four characters
 * bash still acts on there (`$`, backquote, `"`, `\`). Spaces and `;` (CMake's list separator) are fine.
 */
export function cmakeValueProblem(value: string): string | undefined {
  const bad = firstBadCharacter(value, /[\x20-\x7e]/) ?? [...value].find((c) => '$`"\\'.includes(c));
  if (!bad) return undefined;
  const what = bad.length === 1 ? `'${bad}', which bash expands inside build.py's double quotes` : bad;
  return `contains ${what}; a CMake value here is printable ASCII without $ \` " \\`;
}

/** build.py's --min-compute-capability, e.g. 6.0 or 8.6. */
export function computeCapabilityProblem(value: string): string | undefined {
  return /^\d{1,2}\.\d$/.test(value) ? undefined : "is not a compute capability; expected e.g. 6.0 or 8.6";
}

/** The most compile jobs a value may ask for: more than any build host has cores. */
export const MAX_JOBS = 1024;

/** `--jobs`: a positive decimal integer up to MAX_JOBS (not 0x10, 1e3 or 99999999999). */
export function parseJobs(raw: string): { jobs: number } | { problem: string } {
  if (!/^[1-9][0-9]*$/.test(raw)) return { problem: "is not a positive decimal integer" };
  const jobs = Number(raw);
  if (jobs > MAX_JOBS) return { problem: `is more than ${MAX_JOBS} jobs` };
  return { jobs };
}

/**
 * A preset's `buildpyArgs` entry: passed to build.py as it is, so held to the rule for every
 * other preset value (no shell metacharacters, nothing outside printable ASCII). Only the command
 * line's `--buildpy-arg` is a raw pass-through.
 */
export function presetBuildpyArgProblem(arg: string): string | undefined {
  const bad = firstBadCharacter(arg, /[A-Za-z0-9._/+@%,=:-]/);
  return bad
    ? `contains ${bad}; a preset's build.py argument has only letters, digits and . _ - / + @ % , = : (pass anything else with --buildpy-arg on the command line)`
    : undefined;
}

/** Text that came through a UTF-8 decoder which replaced invalid bytes (argv, the environment). */
export function hasReplacementCharacter(value: string): boolean {
  return value.includes("\ufffd");
}
