/**
 * The report stage: reads every tabulate artifact of an experiment file and writes
 * - `claims.csv` and `claims.parquet`: all experiments' claims, one row per claim, with an
 *   `experiment` column in front, and `schema.json`, their codebook;
 * - `figures/<experiment>-<kind>.svg`: vega-lite figures rendered headless by vega, each beside its
 *   vega-lite spec with the data inlined (`.vl.json`), so a reader can restyle it;
 * - `report.md` (figures linked) and `report.html` (self-contained: SVG and CSS inline).
 * Missing tables are tolerated (a figure needs only its own data) and unknown experiments get the
 * generic figures. The output depends on the inputs alone: no timestamps, input order kept, ids in
 * the SVGs renamed deterministically.
 * @module
 */
import * as aq from "arquero";
import type { InputArtifact, StageKind } from "../pipeline/stage.ts";
import { readCsv, writeJson, writeTable } from "./artifacts.ts";
import { readArtifact } from "../pipeline/pack.ts";
import { parquetReadObjects } from "hyparquet";
import {
  CLAIM_COLUMNS,
  renderHtml,
  renderMarkdown,
  type ReportSection,
} from "./report/document.ts";
import { experimentFigures } from "./report/figures.ts";
import { renderSvg } from "./report/render.ts";
import type { ExperimentTables, Row } from "./report/tables.ts";
import { sourceFiles } from "./sources.ts";

/** What the plan may tell the report about an experiment besides its tables. */
export interface ReportExperimentInfo {
  /** Experiment id. */
  readonly id: string;
  /** The experiment's description. */
  readonly description?: string;
  /** The experiment's dataset block (e.g. `{ kind: "toy4d", family: "paper" }`). */
  readonly dataset?: Readonly<Record<string, unknown>>;
}

/** Params of a report instance. */
export interface ReportParams {
  /** Name of the experiment file (its `name:`). */
  readonly name: string;
  /** Optional per-experiment description and dataset block. */
  readonly experiments?: readonly ReportExperimentInfo[];
}

/** The tables of a tabulate artifact the report reads by name; any other CSV lands in `extra`. */
const KNOWN = [
  "trajectory.csv",
  "params.csv",
  "spectra.csv",
  "summary.csv",
  "claims.csv",
] as const;

/** The experiment id of a tabulate input (`tabulate/<experiment>`). */
function experimentId(input: InputArtifact): string {
  return String(input.params.experiment ?? input.id.split("/")[1] ?? input.id);
}

/** Rows of a CSV artifact, or none when the file is absent. */
async function readRows(input: InputArtifact, name: string): Promise<Row[]> {
  try {
    // Blank lines parse as rows of nulls; they carry nothing.
    return ((await readCsv(input, name)).objects() as Row[])
      .filter((r) => Object.values(r).some((v) => v !== null && v !== undefined));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw new Error(`${input.dir}/${name}: ${e instanceof Error ? e.message : e}`);
  }
}

/**
 * Rows of a long table from the Parquet twin tabulate writes beside its CSV (`writeTable`): the same
 * rows with the codebook's types (integers as numbers) without parsing text, which for 10⁵ rows costs
 * a sweep's report more than drawing it. A directory with the CSV alone is read from the CSV.
 */
async function readLongRows(input: InputArtifact, stem: string): Promise<Row[]> {
  let bytes: Uint8Array;
  try {
    bytes = await readArtifact(input, `${stem}.parquet`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return await readRows(input, `${stem}.csv`);
    throw e;
  }
  try {
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const rows = await parquetReadObjects({ file: file as ArrayBuffer });
    for (const r of rows) {
      for (const k in r) if (typeof r[k] === "bigint") r[k] = Number(r[k]);
    }
    return rows as Row[];
  } catch (e) {
    throw new Error(`${input.dir}/${stem}.parquet: ${e instanceof Error ? e.message : e}`);
  }
}

/** Loads one tabulate artifact into the report's view of its experiment. */
export async function loadExperiment(
  input: InputArtifact,
  info?: ReportExperimentInfo,
): Promise<ExperimentTables> {
  const names: string[] = [];
  for await (const e of Deno.readDir(input.dir)) {
    if (e.isFile && e.name.endsWith(".csv") && !(KNOWN as readonly string[]).includes(e.name)) {
      names.push(e.name);
    }
  }
  names.sort();
  const extra: Record<string, Row[]> = {};
  for (const n of names) extra[n] = await readRows(input, n);
  return {
    id: experimentId(input),
    description: info?.description,
    dataset: info?.dataset,
    trajectory: await readLongRows(input, "trajectory"),
    params: await readLongRows(input, "params"),
    spectra: await readRows(input, "spectra.csv"),
    summary: await readLongRows(input, "summary"),
    claims: await readRows(input, "claims.csv"),
    extra,
  };
}

/** Every experiment's claims in one table, `experiment` first, then the claim columns, then others. */
export function concatClaims(experiments: readonly ExperimentTables[]): aq.ColumnTable {
  const rows = experiments.flatMap((e) => e.claims.map((c) => ({ experiment: e.id, ...c })));
  const base = ["experiment", ...CLAIM_COLUMNS];
  const extra = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => !base.includes(k));
  return aq.from(rows, [...base, ...extra]);
}

/** The vega-lite JSON schema the saved specs declare (editors validate against it). */
const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/** The report stage kind. */
export const reportStage: StageKind = {
  kind: "report",
  version: 2,
  sources: sourceFiles(
    "stages/report.ts",
    "stages/report",
    "stages/artifacts.ts",
    "stages/codebook.ts",
    "core/problems/toy4d.ts",
  ),
  async run(ctx) {
    const p = ctx.params as unknown as ReportParams;
    const infos = new Map((p.experiments ?? []).map((e) => [e.id, e]));
    const inputs = ctx.inputs.tabulate ?? [];
    const experiments: ExperimentTables[] = [];
    for (const input of inputs) {
      experiments.push(await loadExperiment(input, infos.get(experimentId(input))));
    }
    const claims = concatClaims(experiments);
    const columns = await writeTable(ctx, "claims", claims);
    await writeJson(ctx, "schema.json", {
      description:
        "Codebook of the report's claims table (claims.csv, typed twin claims.parquet). " +
        "Missing values are empty CSV fields and Parquet nulls; NaN only where a computation " +
        "produced it. Each experiment's own tables have their codebook in <experiment>/schema.json.",
      missing_values: [""],
      tables: {
        claims: {
          csv: "claims.csv",
          parquet: "claims.parquet",
          rows: "one row per claim of every experiment",
          columns,
        },
      },
    });
    await Deno.mkdir(`${ctx.outDir}/figures`);
    const sections: ReportSection[] = [];
    const total = experiments.length;
    for (const [i, exp] of experiments.entries()) {
      const figures = [];
      for (const f of experimentFigures(exp)) {
        const svg = await renderSvg(f.spec, f.name);
        await Deno.writeTextFile(`${ctx.outDir}/figures/${f.name}.svg`, svg + "\n");
        await Deno.writeTextFile(
          `${ctx.outDir}/figures/${f.name}.vl.json`,
          JSON.stringify({ $schema: VEGA_LITE_SCHEMA, ...f.spec }) + "\n",
        );
        figures.push({ name: f.name, title: f.title, caption: f.caption, svg });
      }
      const empty = exp.trajectory.length === 0 && exp.spectra.length === 0 &&
        exp.summary.length === 0;
      sections.push({
        id: exp.id,
        description: exp.description,
        figures,
        note: figures.length
          ? undefined
          : empty
          ? "No tables were published."
          : "No figure applies.",
      });
      ctx.progress(i + 1, total, exp.id);
    }
    const content = {
      name: String(p.name ?? "report"),
      claims: claims.objects() as Row[],
      sections,
    };
    await Deno.writeTextFile(`${ctx.outDir}/report.md`, renderMarkdown(content));
    await Deno.writeTextFile(`${ctx.outDir}/report.html`, renderHtml(content));
  },
};
