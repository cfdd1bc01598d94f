/**
 * Publishing: the CSV tables a tabulate entry holds are copied (atomically) to
 * `<resultsDir>/<experiment>/<table>.csv`, and `<resultsDir>/manifest.csv` lists every published
 * file with the stage instance and cache key it came from and its SHA-256.
 * @module
 */
import { writeFileAtomic } from "./cache.ts";
import type { Manifest } from "./cache.ts";

/** One row of `manifest.csv`. */
export interface PublishedFile {
  /** Path relative to the results directory, e.g. `fig1-toy/summary.csv`. */
  readonly path: string;
  /** Stage instance id that produced it. */
  readonly stage: string;
  /** Cache key of that instance's entry. */
  readonly key: string;
  /** SHA-256 of the file. */
  readonly sha256: string;
}

/** A finished tabulate (or report) instance to publish. */
export interface TableSource {
  /** Subdirectory of the results directory: the experiment id, or "" for the results root. */
  readonly experiment: string;
  /** File endings to publish (default `.csv`). */
  readonly extensions?: readonly string[];
  /** The verified manifest of the entry. */
  readonly manifest: Manifest;
  /** The entry's directory. */
  readonly dir: string;
}

const COLUMNS = ["path", "stage", "key", "sha256"] as const;

/**
 * Publishes the artifacts of each source and rewrites `manifest.csv`: rows of other stages are
 * kept, files a stage no longer produces are removed. Returns the rows
 * written for `sources`.
 */
export async function publishTables(
  sources: readonly TableSource[],
  resultsDir: string,
): Promise<PublishedFile[]> {
  const manifestPath = `${resultsDir}/manifest.csv`;
  const rows = new Map((await readManifest(manifestPath)).map((r) => [r.path, r]));
  const published: PublishedFile[] = [];
  for (const src of sources) {
    const fresh = new Set<string>();
    await Deno.mkdir(`${resultsDir}/${src.experiment}`, { recursive: true });
    for (
      const [rel, h] of Object.entries(src.manifest.artifacts).sort(([a], [b]) => a < b ? -1 : 1)
    ) {
      if (!(src.extensions ?? [".csv"]).some((ext) => rel.endsWith(ext))) continue;
      const path = src.experiment ? `${src.experiment}/${rel}` : rel;
      const dest = `${resultsDir}/${path}`;
      if (rel.includes("/")) {
        await Deno.mkdir(dest.slice(0, dest.lastIndexOf("/")), { recursive: true });
      }
      await writeFileAtomic(dest, await Deno.readFile(`${src.dir}/${rel}`));
      const row = { path, stage: src.manifest.id, key: src.manifest.key, sha256: h.sha256 };
      rows.set(path, row);
      published.push(row);
      fresh.add(path);
    }
    for (const [path, row] of [...rows.entries()]) {
      if (row.stage === src.manifest.id && !fresh.has(path)) {
        await Deno.remove(`${resultsDir}/${path}`).catch(() => {});
        rows.delete(path);
      }
    }
  }
  for (const path of [...rows.keys()]) {
    if (!(await Deno.stat(`${resultsDir}/${path}`).then(() => true, () => false))) {
      rows.delete(path);
    }
  }
  const sorted = [...rows.values()].sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  const text =
    [COLUMNS.join(","), ...sorted.map((r) => COLUMNS.map((c) => csvField(r[c])).join(","))]
      .join("\n") + "\n";
  await writeFileAtomic(manifestPath, text);
  return published;
}

/** Reads `manifest.csv` (empty when absent or not a manifest: it is rebuilt). */
export async function readManifest(path: string): Promise<PublishedFile[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const [header, ...lines] = parseCsv(text);
  if (!header || header.join(",") !== COLUMNS.join(",")) return [];
  return lines.filter((l) => l.length === COLUMNS.length).map(([path, stage, key, sha256]) => ({
    path,
    stage,
    key,
    sha256,
  }));
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** RFC 4180 CSV → rows of fields (quoted fields may hold commas, quotes and newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], field = "", quoted = false, i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else field += ch;
      i++;
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += ch;
    i++;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
