/**
 * The tabulate stage: gathers every run of one experiment into tidy tables with arquero.
 *
 * - `trajectory`: one row per run × logged step × scalar metric (loss, norms, sample);
 * - `params`: one row per run × logged step × parameter coordinate (D ≤ 64);
 * - `spectra`: one row per run × checkpoint × spectral metric;
 * - `summary`: one row per run, the last logged values as columns (wide);
 * - `claims`: one row per claim of the experiment (core/claims), when it declares any;
 * - `tracking`: one row per run × flow that a `toy_flow_error` claim covers: the tracking error
 *   against the limiting flow, uncorrected and finite-η corrected (the same numbers as the claims);
 * - `window`: one row per run × logged window step (runs with a `window` field): the run columns,
 *   then start, step, proj, sign, sample, loss.
 *
 * `trajectory` and `params` are written when the experiment's `tables:` lists `trajectory`, and
 * `spectra` when it lists `spectra`. Each table is written as CSV and as typed Parquet (stages/artifacts.ts), every one carrying the
 * run columns (every swept field), and `schema.json` gives each column's type, unit and meaning
 * and each metric's meaning (stages/codebook.ts).
 *
 * For data sets with a held-out split (mlp, diagnet) the trajectory also gets `test_loss`, the
 * held-out mean squared error at each checkpoint.
 * @module
 */
import * as aq from "arquero";
import { checkClaimArgs, evaluateClaims, parseClaims } from "../core/claims/evaluate.ts";
import { toyTrackingErrors } from "../core/claims/toy.ts";
import type { ClaimData, MeasureRow, RunRecord, WindowRow } from "../core/claims/types.ts";
import { createF64Problem } from "../core/problems/registry.ts";
import type { Dataset } from "../core/problems/types.ts";
import type { InputArtifact, StageKind } from "../pipeline/stage.ts";
import {
  ownTable,
  readCheckpoints,
  readCsv,
  readCsvRows,
  readDataset,
  readMetas,
  type Rows,
  type Sink,
  writeDataset,
  writeJson,
  writeTable,
} from "./artifacts.ts";
import { type ColumnDef, metricsCodebook, RUN_COLUMNS } from "./codebook.ts";
import { headline } from "./report/headline.ts";
import { datasetFor } from "./dataset.ts";
import { sourceFiles } from "./sources.ts";

export { RUN_COLUMNS };

/** What each published table holds, for `schema.json`. */
const TABLE_ROWS: Readonly<Record<string, string>> = {
  trajectory: "one row per run × logged step × metric",
  params: "one row per run × logged step × parameter coordinate",
  spectra: "one row per run × analysed checkpoint × spectral metric",
  summary: "one row per run: its columns, backend, divergence, last logged values, last " +
    "checkpoint's spectral metrics (prefixed spectral_)",
  claims: "one row per claim of the experiment",
  tracking: "one row per run × limiting flow a toy_flow_error claim covers",
};

/** The run name of an instance id `kind/<experiment>/<run>`. */
export function runName(id: string): string {
  const i = id.indexOf("/");
  const j = i < 0 ? -1 : id.indexOf("/", i + 1);
  return j < 0 ? "" : id.slice(j + 1);
}

type Keys = Record<string, string | number | null>;

/** A number param, null when the run does not set it. */
function optional(v: unknown): number | null {
  return v === undefined || v === null ? null : Number(v);
}

/** The identifying columns of a train run (every swept field), from its params. */
function runKeys(a: InputArtifact): Keys {
  const p = a.params;
  return {
    experiment: String(p.experiment ?? a.id.split("/")[1]),
    run: runName(a.id),
    optimizer: String(p.optimizer),
    lr: Number(p.lr),
    rho: Number(p.rho ?? 0),
    batch: optional(p.batch),
    seed: Number(p.seed ?? 0),
    steps: optional(p.steps),
    sigma: optional(p.sigma),
    init_scale: optional(p.init_scale),
    x0: Array.isArray(p.x0) ? JSON.stringify(p.x0) : null,
  };
}

/** Adds the run's identifying columns in front of a per-run table. */
function withKeys(t: aq.ColumnTable, keys: Keys): aq.ColumnTable {
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

/**
 * The tidy forms of per-run wide tables (without the columns `omit` names), concatenated: the same
 * rows as one `tidy` per table, but one concat and one fold per stretch of consecutive tables with
 * the same columns (arquero compiles each fold's expressions: once per run would dominate a sweep).
 */
function tidyEach(
  tables: readonly aq.ColumnTable[],
  keep: readonly string[],
  omit: (column: string) => boolean = () => false,
): aq.ColumnTable {
  const out: aq.ColumnTable[] = [];
  for (let i = 0; i < tables.length;) {
    const columns = tables[i].columnNames().join("\n");
    let j = i + 1;
    while (j < tables.length && tables[j].columnNames().join("\n") === columns) j++;
    let t = concat(tables.slice(i, j));
    const dropped = t.columnNames().filter(omit);
    if (dropped.length) t = t.select(aq.not(dropped));
    out.push(tidy(t, keep));
    i = j;
  }
  return concat(out);
}

/** The last of the rows as an object ({} when there are none), read from the columns directly. */
function lastOf(r: Rows): Record<string, unknown> {
  const i = r.start + r.rows - 1;
  return r.rows === 0
    ? {}
    : Object.fromEntries(r.table.columnNames().map((c) => [c, r.table.get(c, i)]));
}

/** A table's last row as an object ({} when empty). */
function lastRow(t: aq.ColumnTable): Record<string, unknown> {
  return lastOf({ table: t, start: 0, rows: t.numRows() });
}

/** Whether the data set has a held-out split. */
function hasHeldOut(dataset: Dataset): boolean {
  const { zTest, yTest } = dataset.arrays;
  return zTest !== undefined && yTest !== undefined && yTest.length > 0;
}

/** The held-out loss of each checkpoint (the data set has a held-out split). */
function heldOutLoss(
  dataset: Dataset,
  checkpoints: readonly { step: number; params: Float64Array }[],
): Map<number, number> {
  const { zTest, yTest } = dataset.arrays;
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

/** The window rows claims read. */
function windowRows(t: aq.ColumnTable): WindowRow[] {
  if (t.numRows() === 0) return [];
  return (t.objects() as Record<string, unknown>[]).map((r) => ({
    run: String(r.run),
    start: Number(r.start),
    step: Number(r.step),
    proj: Number(r.proj),
    sign: Number(r.sign),
    sample: Number(r.sample),
    loss: Number(r.loss),
  }));
}

/** The long form of the parameter columns `x1…xD` of a trajectory: (step, tau, coordinate, value). */
function paramsLong(traj: aq.ColumnTable, xs: readonly string[]): aq.ColumnTable {
  const steps = traj.array("step") as ArrayLike<number>;
  const taus = traj.array("tau") as ArrayLike<number>;
  const n = traj.numRows();
  const columns = xs.map((x) => [Number(x.slice(1)), traj.array(x) as ArrayLike<unknown>] as const);
  const step: number[] = [], tau: number[] = [], coordinate: number[] = [], value: unknown[] = [];
  for (let i = 0; i < n; i++) {
    for (const [k, values] of columns) {
      step.push(steps[i]);
      tau.push(taus[i]);
      coordinate.push(k);
      value.push(values[i]);
    }
  }
  return aq.table({ step, tau, coordinate, value });
}

/**
 * Tables an experiment's `tables:` may list (published; claims.csv and tracking.csv come with
 * claims). `checkpoints` is not a table but the parameters at every analysed checkpoint with the
 * data set, for recomputing the spectra independently (see {@link CHECKPOINT_FILES}).
 */
export const TABLES = ["trajectory", "spectra", "summary", "checkpoints"];

/**
 * What `checkpoints` publishes: `checkpoints.f64` (float64 little-endian, one row of D values per
 * analysed checkpoint of each run, in the order of `checkpoints.json`), `checkpoints.json`
 * ({ dim, format, rows: [{ run, step, row }] }) and `dataset.json` (the data set the runs trained
 * on: kind, params, arrays, shapes, provenance).
 */
export const CHECKPOINT_FILES = ["checkpoints.f64", "checkpoints.json", "dataset.json"];

/** The tabulate stage kind. */
export const tabulateStage: StageKind = {
  kind: "tabulate",
  version: 3,
  async validate(params, upstream) {
    for (const t of params.tables as string[]) {
      if (!TABLES.includes(t)) {
        throw new Error(`tables: unknown table ${JSON.stringify(t)} (valid: ${TABLES.join(", ")})`);
      }
    }
    for (const t of ["spectra", "checkpoints"]) {
      if ((params.tables as string[]).includes(t) && !upstream.spectral?.length) {
        throw new Error(`tables: ${t} needs a spectral block in the experiment`);
      }
    }
    // A claim typo fails before any stage runs, with the claim's index.
    if (params.claims !== undefined) {
      checkClaimArgs(
        parseClaims(params.claims, "claims"),
        await datasetFor(upstream.dataset[0]),
      );
    }
  },
  publishes(params) {
    const tables = Array.isArray(params.tables) ? params.tables as string[] : [];
    const stems = [
      ...tables.filter((t) => t !== "checkpoints"),
      ...(tables.includes("trajectory") ? ["params"] : []),
      "window",
      "claims",
      "tracking",
    ];
    return [
      ...stems.flatMap((t) => [`${t}.csv`, `${t}.parquet`]),
      ...(tables.includes("checkpoints") ? CHECKPOINT_FILES : []),
      "schema.json",
    ];
  },
  sources: sourceFiles(
    "stages/tabulate.ts",
    "stages/artifacts.ts",
    "stages/codebook.ts",
    "stages/report/headline.ts",
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
    const wide: aq.ColumnTable[] = [];
    const params: aq.ColumnTable[] = [];
    const spectraWide: aq.ColumnTable[] = [];
    const summaries: Record<string, unknown>[] = [];
    const windows: aq.ColumnTable[] = [];
    const requested = ctx.params.tables as string[];
    const exportCheckpoints = requested.includes("checkpoints");
    // Only the tables asked for are written (claims read theirs in memory): a sweep that wants
    // one summary row per run does not pay for its long tables.
    const wantTrajectory = requested.includes("trajectory");
    const exported: { run: string; step: number; params: Float64Array }[] = [];
    const trajectoryRows = await readCsvRows(trains, "trajectory.csv");
    const metas = await readMetas<{
      diverged: string | null;
      backend: string;
      adapter?: string;
    }>(trains);
    for (const [i, tr] of trains.entries()) {
      const keys = runKeys(tr);
      if (tr.params.window !== undefined) {
        windows.push(withKeys(await readCsv(tr, "window.csv"), keys));
      }
      const rows = trajectoryRows[i];
      // A run's own table only where one is needed: a summary reads its last row in place.
      let own: aq.ColumnTable | undefined;
      const traj = () => own ??= ownTable(rows);
      const meta = metas[i];
      if (hasHeldOut(dataset)) {
        const testLoss = heldOutLoss(dataset, await readCheckpoints(tr));
        const steps = traj().array("step") as ArrayLike<number>;
        own = traj().assign({ test_loss: Array.from(steps, (s) => testLoss.get(s) ?? null) });
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
      if (wantTrajectory || claims) wide.push(withKeys(traj(), keys));
      if (wantTrajectory) {
        const xs = traj().columnNames().filter((c) => /^x\d+$/.test(c));
        if (xs.length) params.push(withKeys(paramsLong(traj(), xs), keys));
      }
      const last = own === undefined ? lastOf(rows) : lastRow(own);
      const summary: Record<string, unknown> = {
        ...keys,
        backend: meta.backend,
        adapter: meta.adapter ?? null,
        diverged: meta.diverged ?? "",
        ...last,
      };
      const sp = spectrals.get(keys.run as string);
      // A run that diverged before every requested checkpoint has an empty spectra table.
      const table = sp && await readCsv(sp, "spectra.csv");
      if (table && table.numRows() > 0) {
        if (exportCheckpoints) {
          const analysed = new Set(Array.from(table.array("step") as ArrayLike<number>));
          for (const c of await readCheckpoints(tr)) {
            if (analysed.has(c.step)) exported.push({ run: keys.run as string, ...c });
          }
        }
        const taus = traj().select("step", "tau");
        const joined = table.join_left(taus, "step").relocate("tau", { after: "step" });
        spectraWide.push(withKeys(joined, keys));
        const lastSpec = lastRow(table);
        for (const [k, v] of Object.entries(lastSpec)) {
          if (k !== "step") summary[`spectral_${k}`] = v;
        }
        summary.spectral_step = lastSpec.step;
      }
      summaries.push(summary);
      // Every 64th run and the last: a sweep's progress line needs no more, and a call per run
      // cost a sweep about a microsecond each.
      if ((i + 1) % 64 === 0 || i + 1 === trains.length) ctx.progress(i + 1, trains.length);
    }
    const written: Record<string, ColumnDef[]> = {};
    const metricNames = new Set<string>();
    const write = async (stem: string, table: aq.ColumnTable) => {
      written[stem] = await writeTable(ctx, stem, table);
      if (table.columnNames().includes("metric")) {
        for (const m of Array.from(table.array("metric") as ArrayLike<string>)) metricNames.add(m);
      }
    };
    if (exportCheckpoints) await writeCheckpointExport(ctx, exported, dataset);
    const keep = [...RUN_COLUMNS, "step", "tau"];
    const spectra = spectraWide.length ? tidyEach(spectraWide, keep) : undefined;
    // The parameter columns x1…xD go to `params`; x0 is a run column (the initial point).
    const isParam = (c: string) => /^x\d+$/.test(c) && !keep.includes(c);
    if (wantTrajectory) await write("trajectory", tidyEach(wide, keep, isParam));
    if (params.length) await write("params", concat(params));
    if (spectra && requested.includes("spectra")) await write("spectra", spectra);
    if (windows.length) await write("window", concat(windows));
    const names = [...new Set(summaries.flatMap((s) => Object.keys(s)))];
    await write("summary", aq.from(summaries, names));
    for (const n of names) metricNames.add(n);
    if (claims) {
      const data: ClaimData = {
        dataset,
        runs,
        trajectory: measureRows(tidyEach(wide, keep)),
        spectra: spectra ? measureRows(spectra) : [],
        window: windowRows(concat(windows)),
      };
      const rows = evaluateClaims(claims, data);
      await write("claims", aq.from(rows));
      const tracking = toyTrackingErrors(data, claims);
      if (tracking.length) {
        const byRun = new Map(summaries.map((s) => [s.run, s]));
        await write(
          "tracking",
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
      ctx.log(`claims: ${headline(rows)}`);
    }
    await writeJson(ctx, "schema.json", {
      description: "Codebook of this experiment's tables: each `<table>.csv` has a typed " +
        "`<table>.parquet` twin. Missing values are empty CSV fields and Parquet nulls; NaN " +
        "appears only where a computation produced it (a quantity undefined at that point).",
      missing_values: [""],
      tables: Object.fromEntries(
        Object.entries(written).map(([stem, columns]) => [stem, {
          csv: `${stem}.csv`,
          parquet: `${stem}.parquet`,
          rows: TABLE_ROWS[stem] ?? "",
          columns,
        }]),
      ),
      metrics: metricsCodebook(metricNames),
    });
  },
};

/** Writes the files of {@link CHECKPOINT_FILES}. */
async function writeCheckpointExport(
  out: Sink,
  rows: readonly { run: string; step: number; params: Float64Array }[],
  dataset: Dataset,
): Promise<void> {
  const dim = rows[0]?.params.length ?? 0;
  const bytes = new Uint8Array(8 * dim * rows.length);
  const view = new DataView(bytes.buffer);
  rows.forEach((r, j) => r.params.forEach((v, i) => view.setFloat64(8 * (j * dim + i), v, true)));
  await out.write("checkpoints.f64", bytes);
  await writeJson(out, "checkpoints.json", {
    dim,
    format: "float64 little-endian, row-major: one row of dim parameters per entry of rows",
    rows: rows.map((r, row) => ({ run: r.run, step: r.step, row })),
  });
  await writeDataset(out, dataset);
}

/** Row-wise union of tables (columns missing from one table become empty). */
function concat(tables: aq.ColumnTable[]): aq.ColumnTable {
  if (tables.length === 0) return aq.table({});
  return tables[0].concat(...tables.slice(1));
}
