/**
 * Publishing: the CSV tables a tabulate entry holds are copied to
 * `<resultsDir>/<experiment>/<table>.csv`, and `<resultsDir>/manifest.csv` lists every published
 * file with the stage instance and cache key it came from, its SHA-256 and the instance's recipe
 * (known without a cache, so `status` can tell that published results match the code).
 *
 * Publishing is one journaled step, the way the cache writes entries: every file is first copied
 * into a temporary sibling directory `<resultsDir>/.publish-*` together with the new manifest and a
 * plan (`plan.json`, written last: its presence means "ready"). Then the old manifest.csv is removed,
 * the files are renamed into place, stale files are deleted and the new manifest.csv is renamed in
 * last, so a reader sees either no manifest or one that agrees with the files. The next publish
 * first finishes a ready journal an interrupted run left (roll forward) and deletes an unready one.
 * @module
 */
import * as aq from "arquero";
import { PipelineError } from "./cache.ts";
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
  /** Recipe of the instance ({@linkcode Runner.recipes}); "" in manifests of earlier versions. */
  readonly recipe: string;
}

/** A finished tabulate (or report) instance to publish. */
export interface TableSource {
  /** Subdirectory of the results directory: the experiment id, or "" for the results root. */
  readonly experiment: string;
  /** File endings to publish (default `.csv`). */
  readonly extensions?: readonly string[];
  /** When given, only these artifact paths are published (an experiment's `tables:`). */
  readonly only?: readonly string[];
  /** The verified manifest of the entry. */
  readonly manifest: Manifest;
  /** The entry's directory. */
  readonly dir: string;
  /** The instance's recipe. */
  readonly recipe?: string;
}

const COLUMNS = ["path", "stage", "key", "sha256", "recipe"] as const;
/** The header of earlier versions (no recipe), still read. */
const OLD_COLUMNS = COLUMNS.slice(0, 4);
const JOURNAL_PREFIX = ".publish-";
/** What the writer of earlier versions left when killed mid-file: `<name>.<uuid>.tmp`. */
const STRAY_TMP = /\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/** The journal's plan: files to rename into place and files to delete, relative paths. */
interface Plan {
  readonly moves: string[];
  readonly removals: string[];
}

const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);

/**
 * Publishes the artifacts of each source and rewrites `manifest.csv`: rows of other stages are
 * kept, files a stage no longer produces are removed. Returns the rows written for `sources`.
 */
export async function publishTables(
  sources: readonly TableSource[],
  resultsDir: string,
): Promise<PublishedFile[]> {
  await recoverPublish(resultsDir);
  await Deno.mkdir(resultsDir, { recursive: true });
  const rows = new Map((await readManifest(`${resultsDir}/manifest.csv`)).map((r) => [r.path, r]));
  const published: PublishedFile[] = [];
  const journal = await Deno.makeTempDir({ dir: resultsDir, prefix: JOURNAL_PREFIX });
  const plan: Plan = { moves: [], removals: [] };
  try {
    for (const src of sources) {
      const fresh = new Set<string>();
      for (
        const [rel, h] of Object.entries(src.manifest.artifacts).sort(([a], [b]) => a < b ? -1 : 1)
      ) {
        if (!(src.extensions ?? [".csv"]).some((ext) => rel.endsWith(ext))) continue;
        if (src.only && !src.only.includes(rel)) continue;
        const path = src.experiment ? `${src.experiment}/${rel}` : rel;
        await checkParents(resultsDir, path);
        const staged = `${journal}/files/${path}`;
        await Deno.mkdir(staged.slice(0, staged.lastIndexOf("/")), { recursive: true });
        await Deno.copyFile(`${src.dir}/${rel}`, staged);
        const row = {
          path,
          stage: src.manifest.id,
          key: src.manifest.key,
          sha256: h.sha256,
          recipe: src.recipe ?? "",
        };
        rows.set(path, row);
        published.push(row);
        fresh.add(path);
        plan.moves.push(path);
      }
      for (const [path, row] of [...rows.entries()]) {
        if (row.stage === src.manifest.id && !fresh.has(path)) {
          plan.removals.push(path);
          rows.delete(path);
        }
      }
    }
    const moving = new Set(plan.moves);
    for (const path of [...rows.keys()]) {
      if (!moving.has(path) && !(await exists(`${resultsDir}/${path}`))) rows.delete(path);
    }
    const sorted = [...rows.values()].sort((a, b) =>
      a.path < b.path ? -1 : a.path > b.path ? 1 : 0
    );
    await Deno.writeTextFile(`${journal}/manifest.csv`, aq.from(sorted, [...COLUMNS]).toCSV());
    await Deno.writeTextFile(`${journal}/plan.json.part`, JSON.stringify(plan) + "\n");
    await Deno.rename(`${journal}/plan.json.part`, `${journal}/plan.json`);
  } catch (e) {
    await Deno.remove(journal, { recursive: true }).catch(() => {});
    throw e;
  }
  await applyJournal(resultsDir, journal);
  return published;
}

/**
 * Finishes or removes what an interrupted publish left under `resultsDir`: a ready journal is
 * applied, an unready one deleted, and stray `*.<uuid>.tmp` files of older versions removed.
 */
export async function recoverPublish(resultsDir: string): Promise<void> {
  let names: string[];
  try {
    names = (await Array.fromAsync(Deno.readDir(resultsDir))).map((e) => e.name).sort();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  for (const name of names) {
    if (!name.startsWith(JOURNAL_PREFIX)) continue;
    const journal = `${resultsDir}/${name}`;
    if (await exists(`${journal}/plan.json`)) await applyJournal(resultsDir, journal);
    else await Deno.remove(journal, { recursive: true });
  }
  await removeStrays(resultsDir, 3);
}

async function removeStrays(dir: string, depth: number): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isFile && STRAY_TMP.test(e.name)) await Deno.remove(path).catch(() => {});
    else if (e.isDirectory && depth > 1) await removeStrays(path, depth - 1);
  }
}

/** Applies a ready journal: manifest away, files in, stale files out, manifest in, journal gone. */
async function applyJournal(resultsDir: string, journal: string): Promise<void> {
  const plan = JSON.parse(await Deno.readTextFile(`${journal}/plan.json`)) as Plan;
  await Deno.remove(`${resultsDir}/manifest.csv`).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  for (const path of plan.moves) {
    const staged = `${journal}/files/${path}`;
    // Moved by an earlier, interrupted application of this journal.
    if (!(await exists(staged))) continue;
    const dest = `${resultsDir}/${path}`;
    await checkParents(resultsDir, path, { create: true });
    await Deno.rename(staged, dest);
  }
  for (const path of plan.removals) {
    await Deno.remove(`${resultsDir}/${path}`).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
  if (await exists(`${journal}/manifest.csv`)) {
    await Deno.rename(`${journal}/manifest.csv`, `${resultsDir}/manifest.csv`);
  }
  await Deno.remove(journal, { recursive: true });
}

/**
 * Checks that every directory above `path` under `resultsDir` is a real directory (a symlink
 * there would publish outside the results), creating missing ones with `create`.
 */
async function checkParents(
  resultsDir: string,
  path: string,
  opts: { create?: boolean } = {},
): Promise<void> {
  const parts = path.split("/");
  if (parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new PipelineError(
      `refusing to publish ${JSON.stringify(path)}: not a plain relative path`,
    );
  }
  let dir = resultsDir;
  for (const part of parts.slice(0, -1)) {
    dir = `${dir}/${part}`;
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(dir);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      if (opts.create) await Deno.mkdir(dir);
      continue;
    }
    if (info.isSymlink) {
      throw new PipelineError(`${dir} is a symlink; refusing to publish through it (remove it)`);
    }
    if (!info.isDirectory) throw new PipelineError(`${dir} is not a directory; cannot publish`);
  }
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
  let table: aq.ColumnTable;
  try {
    table = aq.fromCSV(text, { autoType: false });
  } catch {
    return [];
  }
  const header = table.columnNames().join(",");
  if (header !== COLUMNS.join(",") && header !== OLD_COLUMNS.join(",")) return [];
  return (table.objects() as Record<string, string | null>[]).map((r) => ({
    path: r.path ?? "",
    stage: r.stage ?? "",
    key: r.key ?? "",
    sha256: r.sha256 ?? "",
    recipe: r.recipe ?? "",
  })).filter((r) => r.path !== "" && r.sha256 !== "");
}
