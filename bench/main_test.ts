import { assert, assertEquals } from "../testing/assert.ts";
import { findPython } from "./baselines.ts";

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

const numpy = await findPython("numpy", ["python3", "/usr/bin/python3"]);

Deno.test({
  name: "bench: an OPENBLAS_CORETYPE in the environment does not reach the baselines",
  ignore: !numpy.python,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const out = `${dir}/bench.csv`;
      const r = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          "--allow-env",
          "--allow-run",
          "--allow-sys=loadavg",
          `--allow-write=${dir}`,
          main,
          ...["--quick", "--only", "^toy4d/f64/sam$", "--out", out],
        ],
        env: { OPENBLAS_CORETYPE: "Haswell" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(r.stderr);
      assertEquals(r.code, 0, err);
      assert(err.includes("OPENBLAS_CORETYPE=Haswell removed from the environment"), err);
      const rows = (await Deno.readTextFile(out)).split("\n").filter((l) =>
        l.startsWith("toy4d,numpy")
      );
      assert(rows.length > 0, "a NumPy row");
      for (const row of rows) assert(!row.includes("OPENBLAS_CORETYPE=Haswell"), row);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
