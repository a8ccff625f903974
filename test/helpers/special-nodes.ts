// What no cache entry, work dir or image the tool writes may hold: device nodes, FIFOs, sockets,
// and files or directories with the setuid, setgid or sticky bit.
import { execa } from "execa";

/** find(1)'s test for such nodes. */
const SPECIAL = ["(", "-type", "b", "-o", "-type", "c", "-o", "-type", "p", "-o", "-type", "s", "-o", "-perm", "/7000", ")"];

/** Every such node under `dir` on this machine. */
export async function specialNodes(dir: string): Promise<string[]> {
  const { stdout } = await execa("find", [dir, ...SPECIAL, "-print"]);
  return stdout.split("\n").filter(Boolean);
}

/** Every such node under `dir` inside an image (a throwaway container without network). */
export async function specialNodesInImage(image: string, dir: string): Promise<string[]> {
  const script = `find ${dir} ${SPECIAL.map((word) => `'${word}'`).join(" ")} -print`;
  const { stdout } = await execa("docker", ["run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c", script]);
  return stdout.split("\n").filter(Boolean);
}
