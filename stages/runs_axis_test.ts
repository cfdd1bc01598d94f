/**
 * `runs_axis: true` through the whole pipeline: the runs of an entry are computed in one job into
 * one sweep entry, each run keeping its own key and artifacts, a float64 axis changes no byte of any run, a tfjs axis
 * tracks the runs computed alone within float32 rounding, and a member rerun alone (which
 * recomputes its group) rewrites its artifacts byte for byte.
 */
import { assert, assertClose, assertEquals, assertRejects } from "../testing/assert.ts";
import { Cache } from "../pipeline/cache.ts";
import { loadConfig, parseConfig } from "../pipeline/config.ts";
import type { InputArtifact, StageContext } from "../pipeline/stage.ts";
import { planInstances } from "../pipeline/plan.ts";
import { Runner } from "../pipeline/runner.ts";
import { readCheckpoints, readCsv, readMeta } from "./artifacts.ts";
import { stageKinds } from "./registry.ts";
import { TRAIN_RUNS } from "./run_fields.ts";
import { cliOn, runConfig } from "./testing/run_config.ts";

/** Where instance `id` of the experiment file in `dir` is cached: its key and its entry's key. */
async function located(dir: string, id: string): Promise<{ key: string; entry: string }> {
  const plan = planInstances(await loadConfig(`${dir}/x.yaml`, { runs: TRAIN_RUNS }));
  const runner = new Runner({ registry: stageKinds, cache: new Cache(`${dir}/c`) });
  const s = (await runner.status(plan)).find((s) => s.id === id);
  assert(s?.state === "up to date" && s.key !== null && s.entry !== null, `${id} is cached`);
  return { key: s.key, entry: s.entry };
}

/** Instance `id` of the experiment file in `dir` as a downstream stage sees it. */
async function input(dir: string, id: string): Promise<InputArtifact> {
  const { key, entry } = await located(dir, id);
  const cache = new Cache(`${dir}/c`);
  const sweep = entry === key ? undefined : await cache.readSweep(entry);
  const m = sweep === undefined
    ? await cache.read(key).then((r) => r.ok ? r.manifest : undefined)
    : sweep.ok
    ? sweep.members.get(key)
    : undefined;
  assert(m !== undefined, `${id}'s entry reads`);
  const pack = cache.packOf(m);
  return {
    id,
    key,
    dir: cache.dirOf(m),
    params: m.params,
    ...(pack ? { pack, member: m.member } : {}),
  };
}

/**
 * Instance `id`'s own part of `file` (its trajectory, checkpoints or meta), as text: for a member
 * of a group, its rows and vectors out of the group's files.
 */
async function artifact(dir: string, id: string, file: string): Promise<string> {
  const a = await input(dir, id);
  if (file.endsWith(".csv")) return (await readCsv(a, file)).toCSV();
  if (file === "checkpoints.json") {
    return JSON.stringify((await readCheckpoints(a)).map((c) => [c.step, [...c.params]]));
  }
  return JSON.stringify(await readMeta(a));
}

/** The last checkpoint of `id` (float64 values of its trajectory's last row). */
async function lastCheckpoint(dir: string, id: string): Promise<number[]> {
  const traj = (await artifact(dir, id, "trajectory.csv")).trim().split("\n");
  const header = traj[0].split(",");
  const last = traj.at(-1)!.split(",");
  return header.flatMap((h, i) => h.startsWith("x") ? [Number(last[i])] : []);
}

const F64 = `name: axis
backend: f64
experiments:
  - id: toy
    dataset: { kind: toy4d, family: paper }
    train:
      defaults: { steps: 300, lr: 0.05, x0: [1, 1, 0.3, 0.3] }
      runs:
        - { name: axis, optimizer: 1sam, rho: [0.02, 0.05], seed: [0, 1], runs_axis: true }
        - { name: solo, optimizer: 1sam, rho: [0.02, 0.05], seed: [0, 1] }
    tables: [trajectory]
`;

Deno.test("runs axis (f64): one job for the entry, each run bit for bit its run alone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code, err } = await runConfig(dir, F64);
    assertEquals(code, 0, err);
    for (const run of ["rho0.02-seed0", "rho0.02-seed1", "rho0.05-seed0", "rho0.05-seed1"]) {
      for (const file of ["trajectory.csv", "checkpoints.json"]) {
        assertEquals(
          await artifact(dir, `train/toy/axis-${run}`, file),
          await artifact(dir, `train/toy/solo-${run}`, file),
          `${run} ${file}`,
        );
      }
      const meta = JSON.parse(await artifact(dir, `train/toy/axis-${run}`, "meta.json"));
      assertEquals(meta.runs_axis, 4);
    }
    // One job, one sweep entry: the four runs sit in one entry, the runs alone in their own.
    const runs = ["rho0.02-seed0", "rho0.02-seed1", "rho0.05-seed0", "rho0.05-seed1"];
    const entries = new Set<string>();
    for (const run of runs) {
      const { key, entry } = await located(dir, `train/toy/axis-${run}`);
      assert(entry !== key, `${run} is a member of a sweep entry`);
      entries.add(entry);
      const solo = await located(dir, `train/toy/solo-${run}`);
      assertEquals(solo.entry, solo.key);
    }
    assertEquals(entries.size, 1);
    const sweep = JSON.parse(await Deno.readTextFile(`${dir}/c/${[...entries][0]}/manifest.json`));
    assertEquals(
      sweep.members.map((m: { id: string }) => m.id),
      runs.map((r) => `train/toy/axis-${r}`),
    );
    const s0 = await artifact(dir, "train/toy/axis-rho0.02-seed0", "trajectory.csv");
    const s1 = await artifact(dir, "train/toy/axis-rho0.02-seed1", "trajectory.csv");
    assert(s0 !== s1, "the seeds draw different samples");
    // `clean --unused` keeps the sweep entry its members are in.
    const cleaned = await cliOn(dir, "clean", "--unused", "--yes");
    assertEquals(cleaned.code, 0, cleaned.out);
    assert(cleaned.out.includes("removed 0 cache entries"), cleaned.out);
    // Selecting one member selects its group, and says why.
    const only = ["--only", "train/toy/axis-rho0.02-seed0", "--force", "--dry-run"];
    const { code: dry, out } = await cliOn(dir, "reproduce", ...only);
    assertEquals(dry, 0, out);
    assert(out.includes("would run  train/toy/axis-rho0.05-seed1  "), out);
    assert(out.includes("computed with its group") && !out.includes("undefined"), out);
    assertEquals(await artifact(dir, "train/toy/axis-rho0.02-seed0", "trajectory.csv"), s0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const TFJS = `name: axis
backend: cpu
experiments:
  - id: net
    dataset: { kind: mlp, n: 16, d: 3, hidden: 6, nTest: 0, seed: 1 }
    train:
      defaults: { steps: 60, seed: [0, 1, 2] }
      runs:
        - { name: axis, optimizer: sam, lr: 0.05, rho: 0.02, runs_axis: true }
        - { name: solo, optimizer: sam, lr: 0.05, rho: 0.02 }
        - { name: sgd, optimizer: sgd, lr: 0.05, batch: 4, runs_axis: true }
        - { name: sgd-solo, optimizer: sgd, lr: 0.05, batch: 4 }
    tables: [trajectory]
`;

Deno.test("runs axis (tfjs cpu): runs track their runs alone; a member rerun alone rewrites the same bytes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code, err } = await runConfig(dir, TFJS);
    assertEquals(code, 0, err);
    for (const [axis, solo] of [["axis", "solo"], ["sgd", "sgd-solo"]]) {
      for (const seed of [0, 1, 2]) {
        const got = await lastCheckpoint(dir, `train/net/${axis}-seed${seed}`);
        const want = await lastCheckpoint(dir, `train/net/${solo}-seed${seed}`);
        assertEquals(got.length, 30);
        // 60 float32 steps, each rounding at ~2⁻²⁴ relative: the gap stays below 60·4·2⁻²⁴·max|x|.
        const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
        assertClose(got, want, {
          rtol: 0,
          atol: 60 * 4 * 2 ** -24 * scale,
          msg: `${axis} ${seed}`,
        });
      }
    }
    const id = "train/net/axis-seed1";
    const before = await artifact(dir, id, "trajectory.csv");
    const rerun = await cliOn(dir, "stage", id, "--force");
    assertEquals(rerun.code, 0, rerun.out);
    assertEquals(await artifact(dir, id, "trajectory.csv"), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runs axis: an entry sweeping more than seed, lr, rho and sigma, or a swept runs_axis, is one clear line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sweepsBatch = TFJS.replace(
      "{ name: sgd, optimizer: sgd, lr: 0.05, batch: 4, runs_axis: true }",
      "{ name: sgd, optimizer: sgd, lr: 0.05, batch: [2, 4], runs_axis: true }",
    );
    const a = await runConfig(dir, sweepsBatch);
    assertEquals(a.code, 2, a.err);
    assert(
      a.err.includes("may differ only in seed, lr, rho, sigma; this entry sweeps batch"),
      a.err,
    );
    assert(!a.err.includes("    at "), "no stack trace");
    const swept = TFJS.replace("runs_axis: true }", "runs_axis: [true, false] }");
    const b = await runConfig(dir, swept);
    assertEquals(b.code, 2, b.err);
    assert(
      b.err.includes(
        "runs_axis cannot be swept (got a list; it takes true, false or a group size)",
      ),
      b.err,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runs axis: a group missing from the cache, or skipped, is reported once for its runs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/x.yaml`, F64);
    const group = "train/toy/axis-rho0.02-seed0 … axis-rho0.05-seed1 (4 runs)";
    const lines = (out: string, start: string) =>
      out.split("\n").filter((l) => l.startsWith(start));
    // Nothing cached: the data set fails, and the group's runs are skipped in one line.
    const bare = await cliOn(dir, "stage", "tabulate/toy", "--results-dir", `${dir}/r`);
    assertEquals(bare.code, 1, bare.out);
    assertEquals(lines(bare.out, "skipped  train/toy/axis"), [
      `skipped  ${group}  (an upstream stage failed)  [9/10]`,
    ]);
    assertEquals(lines(bare.out, "skipped  train/toy/solo").length, 4, bare.out);
    assert(bare.out.includes("failed 1, skipped 9"), bare.out);
    // The data set cached, the runs not: the group fails in one line, and is printed once after.
    const made = await cliOn(
      dir,
      "reproduce",
      "--only",
      "dataset/toy",
      "--results-dir",
      `${dir}/r`,
    );
    assertEquals(made.code, 0, made.out);
    const { code, out } = await cliOn(dir, "stage", "tabulate/toy", "--results-dir", `${dir}/r`);
    assertEquals(code, 1, out);
    const failed = lines(out, "FAILED   train/toy/axis");
    assertEquals(failed.length, 1, out);
    assert(failed[0].startsWith(`FAILED   ${group}: the group of 4 runs is not in the cache`), out);
    assert(
      failed[0].includes("deno task stage train/toy/axis-rho0.02-seed0 computes its whole group"),
    );
    assertEquals(lines(out, `${group} failed: `).length, 1, out);
    assertEquals(lines(out, "FAILED   train/toy/solo").length, 4, out);
    assert(out.includes("failed 8, skipped 1"), out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runs axis: a group's job given part of its runs, or its runs out of order, refuses before computing", async () => {
  const text = `name: t
experiments:
  - id: x
    dataset: { kind: toy4d, family: paper }
    train:
      defaults: { steps: 2, lr: 0.05, rho: 0.05, runs_axis: true }
      runs:
        - { name: s, optimizer: sam, seed: [0, 1, 2] }
    tables: [summary]
`;
  const runs = parseConfig(text, "t.yaml", { runs: TRAIN_RUNS }).experiments[0].runs;
  const ctx = (i: number): StageContext => ({
    id: `train/x/${runs[i].label}`,
    params: runs[i].params,
    inputs: {},
    outDir: "",
    write: () => Promise.reject(new Error("nothing may be written")),
    progress() {},
    log() {},
  });
  for (const order of [[0, 1], [2, 1, 0], [0, 1, 1]]) {
    await assertRejects(
      () => stageKinds.train.runGroup!(order.map(ctx)),
      /belongs to a group of 3 runs, which must be computed together and in order/,
    );
  }
});

Deno.test("runs axis: status says why a group's runs are missing or changed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code, err } = await runConfig(dir, F64);
    assertEquals(code, 0, err);
    const { entry } = await located(dir, "train/toy/axis-rho0.02-seed0");
    const line = (out: string, id: string) => out.split("\n").find((l) => l.includes(`${id} `));
    // The sweep entry removed: each run is missing (its key unchanged).
    await Deno.remove(`${dir}/c/${entry}`, { recursive: true });
    const gone = await cliOn(dir, "status");
    for (const run of ["rho0.02-seed0", "rho0.05-seed1"]) {
      const l = line(gone.out, `train/toy/axis-${run}`);
      assert(l?.startsWith("missing "), gone.out);
    }
    assert(line(gone.out, "train/toy/solo-rho0.02-seed0")?.includes("up to date"), gone.out);
    // One swept value changed: every run of the group changed params (the group's summary is
    // part of each run's params), the runs alone only where their own value changed.
    await Deno.writeTextFile(
      `${dir}/x.yaml`,
      F64.replaceAll("rho: [0.02, 0.05]", "rho: [0.02, 0.07]"),
    );
    const changed = await cliOn(dir, "status");
    const l = line(changed.out, "train/toy/axis-rho0.02-seed0");
    assert(l?.startsWith("changed (params)") && l.includes("runs_axis"), changed.out);
    assert(line(changed.out, "train/toy/solo-rho0.02-seed0")?.includes("up to date"), changed.out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
