/**
 * The tabulate stage: gathers every run of one experiment into tidy tables with arquero.
 *
 * - `trajectory.csv`: one row per run × logged step × metric;
 * - `spectra.csv`: one row per run × checkpoint × spectral metric;
 * - `summary.csv`: one row per run, the last logged values as columns (wide);
 * - `claims.csv`: one row per claim of the experiment (core/claims), when it declares any;
 * - `tracking.csv`: one row per run × flow that a `toy_flow_error` claim covers: the tracking error
 *   against the limiting flow, uncorrected and finite-η corrected (the same numbers as the claims).
 *
 * For data sets with a held-out split (mlp, diagnet) the trajectory also gets `test_loss`, the
 * held-out mean squared error at each checkpoint.
 * @module
 */
import * as aq from "arquero";
import { evaluateClaims, parseClaims } from "../core/claims/evaluate.ts";
import { toyTrackingErrors } from "../core/claims/toy.ts";
import type { ClaimData, MeasureRow, RunRecord } from "../core/claims/types.ts";
import { createF64Problem } from "../core/problems/registry.ts";
import type { Dataset } from "../core/problems/types.ts";
import type { InputArtifact, StageKind } from "../pipeline/stage.ts";
import { readCheckpoints, readCsv, readDataset, readJson, writeCsv } from "./artifacts.ts";
import { sourceFiles } from "./sources.ts";

/** Columns identifying a run in every table, in this order. */
export const RUN_COLUMNS = [
  "experiment",
  "run",
  "optimizer",
  "lr",
  "rho",
  "batch",
  "seed",
] as const;

/** The run name of an instance id `kind/<experiment>/<run>`. */
export function runName(id: string): string {
  return id.split("/").slice(2).join("/");
}

/** The identifying columns of a train run, from its params. */
function runKeys(a: InputArtifact): Record<string, string | number> {
  const p = a.params;
  return {
    experiment: String(p.experiment ?? a.id.split("/")[1]),
    run: runName(a.id),
    optimizer: String(p.optimizer),
    lr: Number(p.lr),
    rho: Number(p.rho ?? 0),
    batch: p.batch === undefined ? "" : Number(p.batch),
    seed: Number(p.seed ?? 0),
  };
}

/** Adds the run's identifying columns in front of a per-run table. */
function withKeys(t: aq.ColumnTable, keys: Record<string, string | number>): aq.ColumnTable {
  const cols = Object.fromEntries(
    Object.entries(keys).map(([k, v]) => [k, t.numRows() ? Array(t.numRows()).fill(v) : []]),
  );
  return aq.table(cols).assign(t);
}

/** Long (tidy) form of a per-run wide table: every column but the keys becomes (metric, value). */
function tidy(t: aq.ColumnTable, keep: readonly string[]): aq.ColumnTable {
  const measures = t.columnNames().filter((c) => !keep.includes(c));
  return t.fold(measures, { as: ["metric", "value"] });
}

/** The held-out loss of each checkpoint, or undefined when the data set has no held-out split. */
function heldOutLoss(
  dataset: Dataset,
  checkpoints: readonly { step: number; params: Float64Array }[],
): Map<number, number> | undefined {
  const { zTest, yTest } = dataset.arrays;
  if (!zTest || !yTest || yTest.length === 0) return undefined;
  const test = createF64Problem({
    ...dataset,
    arrays: { ...dataset.arrays, z: zTest, y: yTest },
    shapes: { ...dataset.shapes, z: dataset.shapes.zTest, y: dataset.shapes.yTest },
  });
  return new Map(checkpoints.map((c) => [c.step, test.loss(c.params)]));
}

/** The long rows claims read, from a tidy table with run keys. */
function measureRows(t: aq.ColumnTable): MeasureRow[] {
  return (t.objects() as Record<string, unknown>[]).map((r) => ({
    run: String(r.run),
    step: Number(r.step),
    tau: Number(r.tau),
    metric: String(r.metric),
    value: r.value === null || r.value === undefined ? NaN : Number(r.value),
  }));
}

/** Tables an experiment's `tables:` may list (published; claims.csv and tracking.csv come with claims). */
export const TABLES = ["trajectory", "spectra", "summary"];

/** The tabulate stage kind. */
export const tabulateStage: StageKind = {
  kind: "tabulate",
  version: 2,
  validate(params, upstream) {
    for (const t of params.tables as string[]) {
      if (!TABLES.includes(t)) {
        throw new Error(`tables: unknown table ${JSON.stringify(t)} (valid: ${TABLES.join(", ")})`);
      }
    }
    if ((params.tables as string[]).includes("spectra") && !upstream.spectral?.length) {
      throw new Error("tables: spectra needs a spectral block in the experiment");
    }
    // A claim typo fails before any stage runs, with the claim's index.
    if (params.claims !== undefined) parseClaims(params.claims, "claims");
  },
  sources: sourceFiles(
    "stages/tabulate.ts",
    "stages/artifacts.ts",
    "core/claims",
    "core/theory",
    "core/problems",
    "core/rng.ts",
  ),
  async run(ctx) {
    const claims = ctx.params.claims === undefined
      ? undefined
      : parseClaims(ctx.params.claims, "claims");
    const dataset = await readDataset(ctx.inputs);
    const runs: RunRecord[] = [];
    const trains = [...(ctx.inputs.train ?? [])].sort((a, b) => a.id.localeCompare(b.id));
    const spectrals = new Map((ctx.inputs.spectral ?? []).map((s) => [runName(s.id), s]));
    const trajectories: aq.ColumnTable[] = [];
    const spectra: aq.ColumnTable[] = [];
    const summaries: Record<string, unknown>[] = [];
    for (const [i, tr] of trains.entries()) {
      const keys = runKeys(tr);
      let traj = await readCsv(tr.dir, "trajectory.csv");
      const meta = await readJson<{ diverged: string | null; backend: string }>(
        tr.dir,
        "meta.json",
      );
      const testLoss = heldOutLoss(dataset, await readCheckpoints(tr.dir));
      if (testLoss) {
        const steps = traj.array("step") as ArrayLike<number>;
        traj = traj.assign({ test_loss: Array.from(steps, (s) => testLoss.get(s) ?? NaN) });
      }
      runs.push({
        run: keys.run as string,
        optimizer: keys.optimizer as string,
        lr: keys.lr as number,
        rho: keys.rho as number,
        seed: keys.seed as number,
        diverged: meta.diverged ?? "",
        ...(Array.isArray(tr.params.x0) ? { x0: tr.params.x0 as number[] } : {}),
      });
      trajectories.push(tidy(withKeys(traj, keys), [...RUN_COLUMNS, "step", "tau"]));
      const last = traj.numRows() ? traj.slice(traj.numRows() - 1).objects()[0] : {};
      const summary: Record<string, unknown> = {
        ...keys,
        backend: meta.backend,
        diverged: meta.diverged ?? "",
        ...last,
      };
      const sp = spectrals.get(keys.run as string);
      if (sp) {
        const table = await readCsv(sp.dir, "spectra.csv");
        const taus = traj.select("step", "tau");
        const joined = table.join_left(taus, "step").relocate("tau", { after: "step" });
        spectra.push(tidy(withKeys(joined, keys), [...RUN_COLUMNS, "step", "tau"]));
        const lastSpec = table.numRows()
          ? table.slice(table.numRows() - 1).objects()[0] as Record<string, unknown>
          : {};
        for (const [k, v] of Object.entries(lastSpec)) {
          if (k !== "step") summary[`spectral_${k}`] = v;
        }
        summary.spectral_step = lastSpec.step;
      }
      summaries.push(summary);
      ctx.progress(i + 1, trains.length);
    }
    await writeCsv(ctx.outDir, "trajectory.csv", concat(trajectories));
    if (spectra.length) await writeCsv(ctx.outDir, "spectra.csv", concat(spectra));
    const names = [...new Set(summaries.flatMap((s) => Object.keys(s)))];
    await writeCsv(ctx.outDir, "summary.csv", aq.from(summaries, names));
    if (claims) {
      const data: ClaimData = {
        dataset,
        runs,
        trajectory: measureRows(concat(trajectories)),
        spectra: spectra.length ? measureRows(concat(spectra)) : [],
      };
      const rows = evaluateClaims(claims, data);
      await writeCsv(ctx.outDir, "claims.csv", aq.from(rows));
      const tracking = toyTrackingErrors(data, claims);
      if (tracking.length) {
        const byRun = new Map(summaries.map((s) => [s.run, s]));
        await writeCsv(
          ctx.outDir,
          "tracking.csv",
          aq.from(tracking.map((t) => {
            const s = byRun.get(t.run)!;
            return {
              ...Object.fromEntries(RUN_COLUMNS.map((c) => [c, s[c]])),
              tau: s.tau,
              ...t,
            };
          })),
        );
      }
      const count = (v: string) => rows.filter((r) => r.verdict === v).length;
      ctx.log(
        `claims: ${count("reproduced")} reproduced, ${count("not reproduced")} not reproduced, ${
          count("inconclusive")
        } inconclusive`,
      );
    }
  },
};

/** Row-wise union of tables (columns missing from one table become empty). */
function concat(tables: aq.ColumnTable[]): aq.ColumnTable {
  if (tables.length === 0) return aq.table({});
  return tables[0].concat(...tables.slice(1));
}
