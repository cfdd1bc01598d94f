import { assert, assertEquals } from "../testing/assert.ts";
import { TEST_CONFIG, TEST_IDS, TestProject, withProject } from "./testing/project.ts";

const ALL = TEST_IDS;
const TABLES = ["trajectory", "spectra", "summary"];
/** Each train step sleeps 15 ms: a train stage takes ~0.6 s, long enough to be killed inside. */
const SLOW_CONFIG = TEST_CONFIG.replace("seed: 1 }", "seed: 1, delay_ms: 15 }");
const sorted = (ids: string[]) => [...ids].sort();

/** Published tables plus manifest.csv of a project. */
async function published(p: TestProject): Promise<string[]> {
  return [
    ...(await Promise.all(TABLES.map((t) => p.table("toy", t)))),
    await Deno.readTextFile(`${p.dir}/results/manifest.csv`),
  ];
}

/** The tables of an uninterrupted run of `config` (computed once per test file). */
let reference: Promise<string[]> | undefined;
function referenceTables(): Promise<string[]> {
  reference ??= (async () => {
    const p = await TestProject.create(SLOW_CONFIG);
    try {
      const r = await p.cli("reproduce");
      assertEquals(r.code, 0, r.err);
      return await published(p);
    } finally {
      await p.remove();
    }
  })();
  return reference;
}

Deno.test("help, unknown commands and flags, and config mistakes: one line, exit 2", async () => {
  await withProject(TEST_CONFIG, async (p) => {
    const help = await p.run("reproduce", "--help");
    assertEquals(help.code, 0);
    assert(help.out.startsWith("Usage: deno task reproduce [options]\n"), help.out);
    assert(help.out.includes("Examples:\n  deno task reproduce\n"), help.out);
    for (const cmd of ["stage", "status", "clean"]) {
      const h = await p.cli(cmd, "--help");
      assert(h.code === 0 && h.out.includes("Examples:"), `${cmd}: ${h.out}`);
    }
    const unknown = await p.run("reproduc");
    assertEquals([unknown.code, unknown.err], [
      2,
      'error: unknown command "reproduc" (did you mean reproduce?); valid: reproduce, stage, status, clean, publish, export\n',
    ]);
    const flag = await p.run("status", "--force");
    assertEquals([flag.code, flag.err], [
      2,
      "error: status: unknown or malformed option --force (valid: --config, --backend, --json, --results-dir, --cache-dir, --help)\n",
    ]);
    const jobs = await p.cli("reproduce", "--jobs", "0");
    assertEquals(jobs.err, 'error: --jobs must be an integer >= 1 (got "0")\n');
    const only = await p.cli("reproduce", "--only", "train/nope");
    assertEquals(
      only.err,
      `error: --only "train/nope" matches no stage of ${p.dir}/t.yaml (ids look like dataset/toy, train/toy/sam-rho0.01; see \`status\`)\n`,
    );
    await p.edit("t.yaml", "lr: 0.1", "lr: -1");
    const bad = await p.run("reproduce");
    assertEquals([bad.code, bad.out, bad.err], [
      2,
      "",
      "error: t.yaml:6: experiments[0].train.defaults.lr must be > 0 (got -1)\n",
    ]);
  });
});

Deno.test("a reproduce killed with SIGKILL mid-stage resumes without redoing finished stages", async () => {
  const expected = await referenceTables();
  await withProject(SLOW_CONFIG, async (p) => {
    const child = p.spawn("reproduce", "--jobs", "2");
    const done: string[] = [];
    let killedIn = "";
    let buf = "";
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const idsOf = (lines: string[], prefix: string) =>
      lines.filter((l) => l.startsWith(prefix)).map((l) => l.split(/\s+/)[1]);
    // Kill once one train stage has finished and another is mid-way: the one started last (the
    // trains take equally long; one started beside the first may be finishing too).
    while (!killedIn) {
      const { value, done: eof } = await reader.read();
      if (eof) throw new Error(`reproduce ended before it could be killed:\n${buf}`);
      buf += value;
      const lines = buf.split("\n").slice(0, -1);
      const finished = idsOf(lines, "done ");
      const running = idsOf(lines, "run      train/").filter((id) => !finished.includes(id));
      if (finished.some((id) => id.startsWith("train/")) && running.length > 0) {
        child.kill("SIGKILL");
        killedIn = running[running.length - 1];
      }
    }
    // What the process reported done before it died, including lines not yet read at the kill.
    for (let r = await reader.read(); !r.done; r = await reader.read()) buf += r.value;
    await child.stderr.cancel();
    done.push(...idsOf(buf.split("\n"), "done "));
    const status = await child.status;
    assertEquals(status.signal, "SIGKILL");
    const st = await p.run("status");
    const line = st.out.split("\n").find((l) => l.includes(` ${killedIn} `))!;
    assert(line.startsWith("incomplete "), st.out);
    // What the cache holds: everything reported done, and perhaps a stage that finished in the
    // moment between the kill signal and its line.
    const cached = st.out.split("\n").filter((l) => l.startsWith("up to date ")).map((l) =>
      l.split(/\s+/)[3]
    );
    for (const id of done) assert(cached.includes(id), `${id} was done:\n${buf}\n${st.out}`);

    const resumed = await p.run("reproduce");
    assertEquals(resumed.code, 0, resumed.err);
    assert(resumed.ran.includes(killedIn), resumed.out);
    for (const id of cached) {
      assert(!resumed.ran.includes(id), `${id} was recomputed:\n${resumed.out}`);
    }
    assertEquals(sorted([...cached, ...resumed.ran]), sorted(ALL), `${buf}\n${resumed.out}`);
    assertEquals(await published(p), expected);
    // Nothing left behind by the killed process.
    const names = (await Array.fromAsync(Deno.readDir(`${p.dir}/.cache`))).map((e) => e.name);
    assertEquals(names.filter((n) => n.includes(".") && n !== "cache.lock"), []);
  });
});

Deno.test("two concurrent reproduce processes compute each stage once and agree", async () => {
  const expected = await referenceTables();
  await withProject(SLOW_CONFIG, async (p) => {
    const [a, b] = await Promise.all([
      p.run("reproduce", "--jobs", "2"),
      p.run("reproduce", "--jobs", "1"),
    ]);
    assertEquals([a.code, b.code], [0, 0], a.err + b.err);
    const both = [...a.ran, ...b.ran];
    assertEquals(sorted(both), sorted(ALL), `${a.out}\n---\n${b.out}`);
    assertEquals(sorted([...a.ran, ...a.reused]), sorted(ALL));
    assertEquals(sorted([...b.ran, ...b.reused]), sorted(ALL));
    assertEquals(await published(p), expected);
    const again = await p.run("reproduce");
    assertEquals(again.ran, []);
  });
});

Deno.test("clean --unused keeps what the config uses; clean removes everything", async () => {
  await withProject(TEST_CONFIG, async (p) => {
    await p.cli("reproduce");
    await p.edit("t.yaml", "{ name: gd, optimizer: gd }", "{ name: gd, optimizer: gd, lr: 0.3 }");
    await p.cli("reproduce");
    const unused = await p.cli("clean", "--unused");
    // The old gd train, spectral and the old tabulate entries are no longer referenced.
    assertEquals(unused.out, "removed 3 cache entries, kept 8 in use\n");
    assertEquals((await p.cli("reproduce")).ran, []);
    const refused = await p.cli("clean");
    assertEquals(
      [refused.code, refused.err.replaceAll(p.dir, "DIR")],
      [
        2,
        "error: clean without --unused removes all 8 cache entries in DIR/.cache: pass --yes (or --unused)\n",
      ],
    );
    assertEquals((await p.cli("clean", "--yes")).out, "removed 8 cache entries\n");
    assertEquals(sorted((await p.cli("reproduce")).ran), sorted(ALL));
  });
});
