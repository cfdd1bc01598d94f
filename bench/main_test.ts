import { assert, assertEquals } from "../testing/assert.ts";

const main = new URL("./main.ts", import.meta.url).pathname;

async function bench(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", main, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

Deno.test("bench: --help lists options and examples; a bad flag is one line, exit 2", async () => {
  const help = await bench("--help");
  assertEquals(help.code, 0);
  assert(help.out.includes("--only REGEX") && help.out.includes("examples:"), help.out);
  for (const args of [["--bogus"], ["--only"]]) {
    const r = await bench(...args);
    assertEquals(r.code, 2, r.err);
    assertEquals(r.err.trim().split("\n").length, 1, r.err);
    assert(r.err.startsWith("error: ") && !r.err.includes("    at "), r.err);
  }
});
