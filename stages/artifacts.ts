/**
 * Reading and writing the files stages exchange. Formats (documented in README.md):
 * - `*.json`: UTF-8 JSON (numbers round-trip float64 exactly);
 * - `*.csv`: RFC 4180 CSV with a header row, written and read with arquero; a missing value is an
 *   empty field, NaN is written `NaN` (only where a computation produced it);
 * - `*.parquet`: the same table with the codebook's column types (stages/codebook.ts), missing
 *   values as nulls, written with hyparquet-writer (snappy);
 * - `checkpoints.f64`: parameter vectors as raw little-endian float64, one after another, described
 *   by `checkpoints.json` ({ dim, steps }).
 * @module
 */
import * as aq from "arquero";
import { parquetWriteBuffer } from "hyparquet-writer";
import { type ColumnDef, columnDef } from "./codebook.ts";
import type { Dataset } from "../core/problems/types.ts";
import type { InputArtifact, StageContext } from "../pipeline/stage.ts";
import { readArtifact, readArtifactText } from "../pipeline/pack.ts";

/** Where artifacts are written: a stage's context (`ctx.write`). */
export type Sink = Pick<StageContext, "write">;

/** Writes a value as pretty JSON. */
export async function writeJson(out: Sink, name: string, value: unknown): Promise<void> {
  await out.write(name, JSON.stringify(value, null, 1) + "\n");
}

/** Reads a JSON artifact of an upstream instance. */
export async function readJson<T>(a: InputArtifact, name: string): Promise<T> {
  return JSON.parse(await readArtifactText(a, name)) as T;
}

/** Writes rows (objects with the same keys) as CSV through arquero. */
export async function writeCsv(out: Sink, name: string, table: aq.ColumnTable): Promise<void> {
  const csv = table.toCSV();
  await out.write(name, csv.endsWith("\n") ? csv : csv + "\n");
}

/** The Parquet physical/logical type of a codebook type. */
const PARQUET_TYPE = {
  string: "STRING",
  integer: "INT64",
  number: "DOUBLE",
  boolean: "BOOLEAN",
} as const;

/** A cell as the Parquet column of a type takes it (null when missing or not of that type). */
function parquetValue(v: unknown, type: ColumnDef["type"]): unknown {
  if (v === null || v === undefined || v === "") return null;
  switch (type) {
    case "string":
      return typeof v === "string"
        ? v
        : typeof v === "number" || typeof v === "boolean"
        ? String(v)
        : JSON.stringify(v);
    case "integer":
      return typeof v === "number" && Number.isSafeInteger(v) ? BigInt(v) : null;
    case "number":
      return typeof v === "number" ? v : typeof v === "string" ? Number(v) : null;
    case "boolean":
      return typeof v === "boolean" ? v : null;
  }
}

/**
 * Writes a table as `<stem>.csv` and `<stem>.parquet` (same rows, same columns; the Parquet
 * columns typed by the codebook) and returns the column definitions used. An integer column
 * holding a non-integer value is written as a float64 column and described so.
 */
export async function writeTable(
  out: Sink,
  stem: string,
  table: aq.ColumnTable,
): Promise<ColumnDef[]> {
  await writeCsv(out, `${stem}.csv`, table);
  const defs: ColumnDef[] = [];
  const columnData = table.columnNames().map((name) => {
    const values = table.array(name) as ArrayLike<unknown>;
    let def = columnDef(name, values);
    if (def.type === "integer") {
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (v !== null && v !== undefined && v !== "" && !Number.isSafeInteger(v)) {
          def = { ...def, type: "number" };
          break;
        }
      }
    }
    defs.push(def);
    const data = new Array(values.length);
    for (let i = 0; i < values.length; i++) data[i] = parquetValue(values[i], def.type);
    return { name, data, type: PARQUET_TYPE[def.type] };
  });
  const buffer = parquetWriteBuffer({ columnData, createdBy: "sam-sharpness (hyparquet-writer)" });
  await out.write(`${stem}.parquet`, new Uint8Array(buffer));
  return defs;
}

/** Reads a CSV artifact into an arquero table (numbers parsed as numbers). */
export async function readCsv(a: InputArtifact, name: string): Promise<aq.ColumnTable> {
  return aq.fromCSV(await readArtifactText(a, name));
}

/** Serializes a data set: arrays as plain number lists. */
export async function writeDataset(out: Sink, ds: Dataset): Promise<void> {
  const arrays = Object.fromEntries(Object.entries(ds.arrays).map(([k, v]) => [k, Array.from(v)]));
  await writeJson(out, "dataset.json", { ...ds, arrays });
}

/** Reads the data set of the (single) upstream dataset artifact. */
export async function readDataset(
  inputs: Readonly<Record<string, InputArtifact[]>>,
): Promise<Dataset> {
  const raw = await readJson<Dataset & { arrays: Record<string, number[]> }>(
    single(inputs, "dataset"),
    "dataset.json",
  );
  const arrays = Object.fromEntries(
    Object.entries(raw.arrays).map(([k, v]) => [k, Float64Array.from(v)]),
  );
  return { ...raw, arrays };
}

/** The one input of a role that must have exactly one. */
export function single(
  inputs: Readonly<Record<string, InputArtifact[]>>,
  role: string,
): InputArtifact {
  const list = inputs[role] ?? [];
  if (list.length !== 1) throw new Error(`expected one '${role}' input, got ${list.length}`);
  return list[0];
}

/** Writes checkpoints as raw little-endian float64 plus their JSON header. */
export async function writeCheckpoints(
  out: Sink,
  checkpoints: readonly { step: number; params: Float64Array }[],
): Promise<void> {
  const dim = checkpoints[0]?.params.length ?? 0;
  const buf = new ArrayBuffer(8 * dim * checkpoints.length);
  const view = new DataView(buf);
  checkpoints.forEach((c, j) =>
    c.params.forEach((v, i) => view.setFloat64(8 * (j * dim + i), v, true))
  );
  await out.write("checkpoints.f64", new Uint8Array(buf));
  await writeJson(out, "checkpoints.json", { dim, steps: checkpoints.map((c) => c.step) });
}

/** Reads checkpoints written by `writeCheckpoints`. */
export async function readCheckpoints(
  a: InputArtifact,
): Promise<{ step: number; params: Float64Array }[]> {
  const { dim, steps } = await readJson<{ dim: number; steps: number[] }>(a, "checkpoints.json");
  const bytes = await readArtifact(a, "checkpoints.f64");
  if (bytes.length !== 8 * dim * steps.length) {
    throw new Error(
      `${a.id}'s checkpoints.f64: ${bytes.length} bytes, expected ${8 * dim * steps.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return steps.map((step, j) => {
    const params = new Float64Array(dim);
    for (let i = 0; i < dim; i++) params[i] = view.getFloat64(8 * (j * dim + i), true);
    return { step, params };
  });
}
