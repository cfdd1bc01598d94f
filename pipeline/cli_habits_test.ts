/**
 * CLI habits: short flags, "did you mean", `status TARGET…` and `--json`, the overall counter,
 * published results recognised as current without a cache, `stage --help` with real ids, Ctrl-C.
 */
import { assert, assertEquals } from "../testing/assert.ts";
import { TEST_CONFIG, TEST_IDS, withProject } from "./testing/project.ts";

Deno.test("short flags -n -j -f and did-you-mean for options, commands and stage ids", async () => {
  await withProject(TEST_CONFIG, async (p) => {
    const dry = await p.cli("reproduce", "-n", "-j", "1");
    assertEquals(dry.code, 0, dry.err);
    assert(dry.out.endsWith("8 would run, 0 up to date\n"), dry.out);
    assertEquals((await p.cli("reproduce", "-j", "2")).ran.length, 8);
    assertEquals((await p.cli("reproduce", "-f", "--only", "tabulate/toy")).ran, ["tabulate/toy"]);
    const typo = await p.cli("reproduce", "--dryrun");
    assert(
      typo.err.startsWith(
        "error: reproduce: unknown or malformed option --dryrun (did you mean --dry-run?)",
      ),
      typo.err,
    );
    const cmd = await p.cli("stauts");
    assert(cmd.err.startsWith('error: unknown command "stauts" (did you mean status?)'), cmd.err);
    const id = await p.cli("stage", "train/toy/sam-rho0.1");
    assert(id.err.includes("(did you mean train/toy/sam-rho0.01"), id.err);
  });
});

Deno.test("status TARGET… selects stages, --json prints them, the counter counts them", async () => {
  await withProject(TEST_CONFIG, async (p) => {
    const r = await p.cli("reproduce", "--jobs", "1");
    assert(r.out.includes("  [8/8]\n"), r.out);
    const st = await p.cli("status", "train/toy", "tabulate/toy");
    assertEquals(st.out.trim().split("\n").length, 5, st.out);
    assert(st.out.includes("4 up to date\n"), st.out);
    const json = JSON.parse((await p.cli("status", "--json", "spectral/toy/gd")).out);
    assertEquals(json.map((s: { id: string; state: string }) => [s.id, s.state]), [[
      "spectral/toy/gd",
      "up to date",
    ]]);
    const none = await p.cli("status", "trian/toy");
    assertEquals(none.code, 2);
    assert(none.err.includes("matches no stage"), none.err);
  });
});

Deno.test("status says published results are current for this code, even with an empty cache", async () => {
  await withProject(TEST_CONFIG, async (p) => {
    assertEquals((await p.cli("reproduce")).code, 0);
    await Deno.remove(`${p.dir}/.cache`, { recursive: true });
    const st = await p.cli("status");
    const lines = st.out.trim().split("\n");
    assert(
      lines.some((l) =>
        l.startsWith("missing") && l.includes("tabulate/toy") &&
        l.endsWith("published results current")
      ),
      st.out,
    );
    assertEquals(
      lines.at(-1),
      `published results in ${p.dir}/results/ are current: all 1 publishing stages match this code and ${p.dir}/t.yaml`,
    );
    await p.edit("src/tabulate.txt", "v1", "v2");
    const stale = await p.cli("status");
    assert(stale.out.includes("1 stale (reproduce republishes them)"), stale.out);
  });
});

Deno.test("stage --help shows stage ids of the experiment file", async () => {
  await withProject(TEST_CONFIG, async (p) => {
    const h = await p.cli("stage", "--help");
    assert(
      h.out.includes(`  deno task stage dataset/toy --config ${p.dir}/t.yaml\n`) ||
        h.out.includes("deno task stage train/toy/sam-rho0.01"),
      h.out,
    );
    assert(h.out.includes(TEST_IDS[1]) || h.out.includes("tabulate/toy --force"), h.out);
  });
});

Deno.test("Ctrl-C stops a reproduce with one line and exit code 130", async () => {
  await withProject(TEST_CONFIG.replace("seed: 1 }", "seed: 1, delay_ms: 50 }"), async (p) => {
    const child = p.spawn("reproduce", "--jobs", "1");
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("run      train/")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(out);
      out += value;
    }
    child.kill("SIGINT");
    await reader.cancel();
    const err = await new Response(child.stderr).text();
    assertEquals(
      err,
      "\ninterrupted: finished stages are cached; run the same command to resume\n",
    );
    assertEquals((await child.status).code, 130);
  });
});
