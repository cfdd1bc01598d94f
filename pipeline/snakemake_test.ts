/**
 * The exported Snakefile under the real engine (Debian's `snakemake`): a run into an empty cache
 * gives what `reproduce` gives, byte for byte; a job killed mid-run is retried; two Snakemake
 * processes share one cache. Skipped, saying so, where `snakemake` is not installed (CI installs it).
 */
import { assert, assertEquals } from "../testing/assert.ts";
import { runCli } from "./cli.ts";
import { stageKinds } from "../stages/registry.ts";
import { TEST_CONFIG, TEST_IDS, TestProject } from "./testing/project.ts";
import { testStageKinds } from "./testing/test_stages.ts";
import { TRAIN_RUNS } from "../stages/run_fields.ts";
import { DEFAULT_BLAS_PATH } from "../core/engine/blas.ts";

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const HAS_SNAKEMAKE = await new Deno.Command("snakemake", { args: ["--version"], stdout: "null" })
  .output().then((o) => o.success, () => false);
if (!HAS_SNAKEMAKE) {
  console.log(
    "snakemake_test.ts: skipped, `snakemake` is not installed (apt-get install snakemake)",
  );
}

/**
 * A reduced experiment file with real stages: two experiments, spectra, claims and the report; the
 * second's two runs share a sweep entry (one job each, the first computing both).
 */
const REAL_CONFIG = `name: smk
backend: f64
experiments:
  - id: toy
    dataset: { kind: toy4d, family: paper }
    train:
      defaults: { steps: 2000, lr: 0.05, rho: 0.02, x0: [1, 1, 0.3, 0.3], log_per_decade: 5 }
      runs:
        - { name: sam, optimizer: sam }
        - { name: gd, optimizer: gd }
    spectral: { checkpoints: last, k: 2, m: 2 }
    tables: [trajectory, spectra, summary]
  - id: quad
    dataset: { kind: quadratic, eigenvalues: [4, 2, 1, 0.5], rotate: true, seed: 0 }
    train:
      defaults: { steps: 500, lr: 0.05, seed: 0, log_per_decade: 5 }
      runs:
        - { name: sam, optimizer: sam, rho: [0.01, 0.02], runs_axis: true }
    tables: [trajectory, summary]
`;

interface Captured {
  code: number;
  out: string;
}

async function cli(
  args: string[],
  opts: { test?: boolean; root?: string } = {},
): Promise<Captured> {
  let out = "";
  const code = await runCli(args, {
    runs: TRAIN_RUNS,
    registry: opts.test ? testStageKinds : stageKinds,
    root: opts.root,
    entry: opts.test ? `${REPO}/pipeline/testing/cli_entry.ts` : `${REPO}/main.ts`,
    ...(opts.test ? {} : { ffi: [DEFAULT_BLAS_PATH] }),
    tty: false,
    write: (t) => void (out += t),
    writeErr: (t) => void (out += t),
  });
  return { code, out };
}

/** Runs snakemake in `workdir` to completion. */
async function snakemake(
  snakefile: string,
  workdir: string,
  ...extra: string[]
): Promise<Captured> {
  const child = spawnSnakemake(snakefile, workdir, ...extra);
  const o = await child.output();
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout) + dec.decode(o.stderr) };
}

function spawnSnakemake(snakefile: string, workdir: string, ...extra: string[]) {
  return new Deno.Command("snakemake", {
    args: ["--cores", "2", "-s", snakefile, "-d", workdir, ...extra],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Every file under `dir` with its bytes, by relative path. */
async function files(dir: string, prefix = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const e of Deno.readDir(dir)) {
    const rel = `${prefix}${e.name}`;
    if (e.isDirectory) Object.assign(out, await files(`${dir}/${e.name}`, `${rel}/`));
    else out[rel] = await Deno.readTextFile(`${dir}/${e.name}`);
  }
  return out;
}

/** `state` → count from the last line of `status`. */
function statusSummary(out: string): string {
  return out.trim().split("\n").at(-1)!;
}

Deno.test({
  name: "snakemake: the exported Snakefile into an empty cache publishes what reproduce publishes",
  ignore: !HAS_SNAKEMAKE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "smk_" });
    try {
      const config = `${tmp}/smk.yaml`;
      await Deno.writeTextFile(config, REAL_CONFIG);
      const common = ["--config", config, "--cache-dir", `${tmp}/cache`];
      const exp = await cli([
        "export",
        "snakemake",
        ...common,
        "--results-dir",
        `${tmp}/results`,
        "--out",
        `${tmp}/Snakefile`,
      ]);
      assertEquals(exp.code, 0, exp.out);
      // Every job may load the OpenBLAS that the CLI's tasks allow, so that with SAM_BLAS set a
      // job resolves the same runtime as status does.
      const text = await Deno.readTextFile(`${tmp}/Snakefile`);
      assert(text.includes(`FFI = config.get("ffi", ${JSON.stringify(DEFAULT_BLAS_PATH)})`), text);
      const shells = text.match(/^ {4}shell:/gm)?.length ?? 0;
      assert(shells > 1, text);
      assertEquals(text.match(/--allow-env\{ALLOW_FFI\}/g)?.length, shells, text);
      const run = await snakemake(`${tmp}/Snakefile`, `${tmp}/work`);
      assertEquals(run.code, 0, run.out.slice(-3000));
      const st = await cli(["status", ...common]);
      assertEquals(statusSummary(st.out), "11 up to date", st.out);
      const ref = await cli([
        "reproduce",
        "--config",
        config,
        "--cache-dir",
        `${tmp}/ref-cache`,
        "--results-dir",
        `${tmp}/ref-results`,
      ]);
      assertEquals(ref.code, 0, ref.out);
      const got = await files(`${tmp}/results`);
      assert(Object.keys(got).includes("report.html"), Object.keys(got).join(", "));
      assertEquals(got, await files(`${tmp}/ref-results`));
      // Nothing left to do: a second snakemake run finds every marker.
      const again = await snakemake(`${tmp}/Snakefile`, `${tmp}/work`);
      assertEquals(again.code, 0, again.out);
      assert(again.out.includes("Nothing to be done"), again.out);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

/** The test stages with a slow train stage (80 ms per step, 40 steps: about 3 s). */
const SLOW = TEST_CONFIG.replace("seed: 1 }", "seed: 1, delay_ms: 80 }");

async function exportTest(p: TestProject): Promise<void> {
  const r = await cli([
    "export",
    "snakemake",
    "--config",
    `${p.dir}/t.yaml`,
    "--cache-dir",
    `${p.dir}/.cache`,
    "--results-dir",
    `${p.dir}/results`,
    "--out",
    `${p.dir}/Snakefile`,
  ], { test: true, root: p.dir });
  assertEquals(r.code, 0, r.out);
}

async function referenceTables(config: string): Promise<Record<string, string>> {
  const p = await TestProject.create(config);
  try {
    assertEquals((await p.cli("reproduce")).code, 0);
    return await files(`${p.dir}/results`);
  } finally {
    await p.remove();
  }
}

Deno.test({
  name: "snakemake: a job killed mid-run is retried and the results are unharmed",
  ignore: !HAS_SNAKEMAKE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const expected = await referenceTables(SLOW);
    const p = await TestProject.create(SLOW);
    try {
      await exportTest(p);
      const child = spawnSnakemake(`${p.dir}/Snakefile`, `${p.dir}/work`, "--restart-times", "1");
      // Kill the first train job's process once it has started computing (bounded by time: on a
      // loaded machine the whole snakemake run can take longer than usual). ps -ww: without it ps
      // cuts the arguments to $COLUMNS where that is set (gdb sets it), and the job is never found.
      let victim = "";
      let exited = false;
      child.status.then(() => exited = true);
      const deadline = Date.now() + 120_000;
      while (!victim && !exited && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        const ps = await new Deno.Command("ps", { args: ["-wweo", "pid=,args="] }).output();
        const line = new TextDecoder().decode(ps.stdout).split("\n").find((l) => {
          const [, exe, ...rest] = l.trim().split(/\s+/);
          return exe?.endsWith("deno") && rest.join(" ").includes("cli_entry.ts stage train/toy/");
        });
        const entries = await Array.fromAsync(Deno.readDir(`${p.dir}/.cache`)).catch(() => []);
        if (line && entries.some((e) => e.name.endsWith(".tmp"))) {
          victim = line.trim().split(/\s+/)[0];
          Deno.kill(Number(victim), "SIGKILL");
        }
      }
      assert(
        victim,
        exited ? "snakemake finished before a train job could be killed" : "no train job in 120 s",
      );
      const o = await child.output();
      const log = new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
      assertEquals(o.code, 0, log.slice(-3000));
      assert(/Trying to restart job|restart/i.test(log), log.slice(-3000));
      const st = await p.cli("status");
      assertEquals(statusSummary(st.out), `${TEST_IDS.length} up to date`, st.out);
      assertEquals(await files(`${p.dir}/results`), expected);
    } finally {
      await p.remove();
    }
  },
});

Deno.test({
  name: "snakemake: two processes on one cache compute each stage once and agree",
  ignore: !HAS_SNAKEMAKE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const config = SLOW.replace("delay_ms: 80", "delay_ms: 15");
    const expected = await referenceTables(config);
    const p = await TestProject.create(config);
    try {
      await exportTest(p);
      const [a, b] = await Promise.all([
        snakemake(`${p.dir}/Snakefile`, `${p.dir}/work-a`),
        snakemake(`${p.dir}/Snakefile`, `${p.dir}/work-b`),
      ]);
      assertEquals([a.code, b.code], [0, 0], a.out.slice(-2000) + b.out.slice(-2000));
      const ran = (out: string) =>
        out.split("\n").filter((l) => l.startsWith("done ")).map((l) => l.split(/\s+/)[1]);
      assertEquals([...ran(a.out), ...ran(b.out)].sort(), [...TEST_IDS].sort());
      const st = await p.cli("status");
      assertEquals(statusSummary(st.out), `${TEST_IDS.length} up to date`, st.out);
      assertEquals(await files(`${p.dir}/results`), expected);
    } finally {
      await p.remove();
    }
  },
});
