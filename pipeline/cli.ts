/**
 * The command line: `reproduce`, `stage`, `status`, `clean`, `publish` and `export`. `main.ts`
 * calls {@linkcode runCli} with the real stage registry; tests call it with small test stage kinds.
 * @module
 */
import * as aq from "arquero";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  ConfigError,
  type ExperimentSet,
  type Json,
  loadConfig,
  type RunSchema,
  totalSteps,
} from "./config.ts";
import {
  matchesPattern,
  planInstances,
  type StageInstance,
  withGroups,
  withUpstream,
} from "./plan.ts";
import { Cache, PipelineError, writeFileAtomic } from "./cache.ts";
import {
  describe,
  type InstanceStatus,
  Runner,
  type RunSummary,
  unselectedReasons,
} from "./runner.ts";
import { createReporter, formatDuration, type Reporter, shortKey } from "./progress.ts";
import { type PublishedFile, publishTables, readManifest } from "./publish.ts";
import { type Executor, workerExecutor } from "./executor.ts";
import { confinePath } from "./paths.ts";
import { snakefile } from "./snakemake.ts";
import { didYouMean } from "./suggest.ts";
import {
  type Command,
  commandHelp,
  COMMANDS,
  DEFAULT_CONFIG,
  mainHelp,
  SPECS,
} from "./cli_spec.ts";
import { runtimeMemoKey, type StageRegistry } from "./stage.ts";

/** Options for {@linkcode runCli}. */
export interface CliOptions {
  /**
   * Stage kinds by name, or a loader of them: loaded only once the experiment file has been
   * checked, so that a mistake in it is reported without loading the numerical libraries.
   */
  readonly registry: StageRegistry | (() => Promise<StageRegistry>);
  /** The fields a run may set in an experiment file, as the stage kinds declare them. */
  readonly runs: RunSchema;
  /**
   * URL of a module exporting the same registry as `stageKinds`; when given, `--jobs N > 1` runs
   * stages in N Web Workers (true parallelism). Without it stages run in the calling thread.
   */
  readonly registryUrl?: string;
  /** Standard output. Default: `Deno.stdout`. */
  readonly write?: (text: string) => void;
  /** Standard error. Default: `Deno.stderr`. */
  readonly writeErr?: (text: string) => void;
  /** Whether stdout is a terminal (live progress lines). Default: detected. */
  readonly tty?: boolean;
  /** Directory that stage `sources` paths are relative to. Default: the working directory. */
  readonly root?: string;
  /**
   * Path of the CLI module that exported workflows run for each job (default `main.ts` in the
   * working directory); the test CLI names its own.
   */
  readonly entry?: string;
  /**
   * Native libraries the stage kinds may load through Deno's FFI: an exported workflow's jobs run
   * with `--allow-ffi` scoped to them, as the CLI's own tasks do, so that a job resolves the same
   * runtime (and cache key) as `reproduce` and `status` do in the same environment.
   */
  readonly ffi?: readonly string[];
}

/** A command-line mistake: one line, exit code 2. */
class UsageError extends Error {}

/**
 * `stage --help` examples with ids that exist in the experiment file (`--config` or the default);
 * undefined (the static examples) when the file cannot be read.
 */
async function liveExamples(
  command: Command,
  { values, registry, runs }: {
    values: Record<string, unknown>;
    registry: StageRegistry;
    runs: RunSchema;
  },
): Promise<string[] | undefined> {
  if (command !== "stage") return undefined;
  const file = (values.config as string | undefined) ?? DEFAULT_CONFIG;
  try {
    confinePath(file, { what: "--config", access: "read" });
    const plan = planInstances(await loadConfig(file, { runs }), { report: "report" in registry });
    const config = file === DEFAULT_CONFIG ? "" : ` --config ${file}`;
    const train = plan.find((s) => s.kind === "train") ?? plan[0];
    const tab = plan.find((s) => s.kind === "tabulate") ?? plan[0];
    return [
      `deno task stage ${train.id}${config}`,
      `deno task stage ${tab.id} --force${config}`,
    ];
  } catch {
    return undefined;
  }
}

/** Runs the CLI with `args` (without the program name); resolves to the process exit code. */
export async function runCli(args: readonly string[], opts: CliOptions): Promise<number> {
  const enc = new TextEncoder();
  const write = opts.write ?? ((t: string) => void Deno.stdout.writeSync(enc.encode(t)));
  const writeErr = opts.writeErr ?? ((t: string) => void Deno.stderr.writeSync(enc.encode(t)));
  const [cmd, ...rest] = args;
  if (cmd === undefined || cmd === "--help" || cmd === "-h" || cmd === "help") {
    write(mainHelp());
    return cmd === undefined ? 2 : 0;
  }
  if (!(COMMANDS as readonly string[]).includes(cmd)) {
    writeErr(
      `error: unknown command ${JSON.stringify(cmd)}${didYouMean(cmd, COMMANDS)}; valid: ${
        COMMANDS.join(", ")
      }\n`,
    );
    return 2;
  }
  const command = cmd as Command;
  const spec = SPECS[command];
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    const options: Record<
      string,
      { type: "string" | "boolean"; multiple?: boolean; short?: string }
    > = {};
    for (const [k, o] of Object.entries(spec.opts)) {
      options[k] = {
        type: o.type,
        multiple: o.multiple ?? false,
        ...(o.short ? { short: o.short } : {}),
      };
    }
    ({ values, positionals } = parseArgs({
      args: [...rest],
      options,
      strict: true,
      allowPositionals: true,
    }) as {
      values: Record<string, string | boolean | string[] | undefined>;
      positionals: string[];
    });
  } catch (e) {
    const flags = Object.keys(spec.opts).map((k) => `--${k}`);
    const m = /'([^']+)'/.exec((e as Error).message);
    const what = m
      ? `unknown or malformed option ${m[1]}${didYouMean(m[1].split("=")[0], flags)}`
      : (e as Error).message;
    writeErr(`error: ${command}: ${what} (valid: ${flags.join(", ")})\n`);
    return 2;
  }
  if (values.help) {
    const registry = typeof opts.registry === "function" ? await opts.registry() : opts.registry;
    write(
      commandHelp(command, await liveExamples(command, { values, registry, runs: opts.runs })),
    );
    return 0;
  }
  try {
    const ctx: Ctx = {
      ...opts,
      registry: {},
      load: opts.registry,
      write,
      writeErr,
      values,
      positionals,
    };
    if (command === "reproduce") return await reproduce(ctx);
    if (command === "stage") return await stage(ctx);
    if (command === "status") return await status(ctx);
    if (command === "publish") return await publish(ctx);
    if (command === "export") return await exportWorkflow(ctx);
    return await clean(ctx);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UsageError) {
      writeErr(`error: ${e.message}\n`);
      return 2;
    }
    if (e instanceof PipelineError) {
      writeErr(`error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

interface Ctx extends Omit<CliOptions, "registry"> {
  /** The stage kinds; empty until {@linkcode kinds} has loaded them. */
  registry: StageRegistry;
  /** What {@linkcode CliOptions.registry} gave. */
  readonly load: CliOptions["registry"];
  readonly write: (text: string) => void;
  readonly writeErr: (text: string) => void;
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
}

/** Loads the stage kinds into `ctx.registry` (once). */
async function kinds(ctx: Ctx): Promise<StageRegistry> {
  if (Object.keys(ctx.registry).length === 0) {
    ctx.registry = typeof ctx.load === "function" ? await ctx.load() : ctx.load;
  }
  return ctx.registry;
}

function noPositionals(ctx: Ctx, command: string): void {
  if (ctx.positionals.length > 0) {
    throw new UsageError(
      `${command} takes no arguments (got ${JSON.stringify(ctx.positionals[0])})`,
    );
  }
}

function jobsOf(ctx: Ctx): number {
  const raw = ctx.values.jobs as string | undefined;
  if (raw === undefined) return navigator.hardwareConcurrency || 1;
  if (!/^[1-9][0-9]*$/.test(raw)) {
    throw new UsageError(`--jobs must be an integer >= 1 (got ${JSON.stringify(raw)})`);
  }
  return Number(raw);
}

async function loadSet(ctx: Ctx): Promise<ExperimentSet> {
  const file = (ctx.values.config as string | undefined) ?? DEFAULT_CONFIG;
  confinePath(file, { what: "--config", access: "read" });
  const set = await loadConfig(file, {
    runs: ctx.runs,
    backend: ctx.values.backend as string | undefined,
  });
  await kinds(ctx);
  return set;
}

/** The cache directory, checked (real path, permissions) before anything runs. */
function cacheDirOf(ctx: Ctx, access: "read" | "write" = "write"): string {
  const dir = (ctx.values["cache-dir"] as string | undefined) ?? ".cache";
  if (access === "write") confinePath(dir, { what: "--cache-dir", access: "write", create: true });
  confinePath(dir, { what: "--cache-dir", access: "read" });
  return dir;
}

/** The results directory of a set, checked before the first stage runs. */
function resultsDirOf(ctx: Ctx, set: ExperimentSet): string {
  const dir = (ctx.values["results-dir"] as string | undefined) ?? resultsRoot(set);
  confinePath(dir, { what: "--results-dir", access: "write", create: true });
  return dir;
}

/**
 * Refuses (one line, exit 2) a plan whose train instances total more optimizer steps than the
 * set's budget, unless `--yes`: decided from the plan, before anything runs.
 */
function checkBudget(ctx: Ctx, set: ExperimentSet, plan: readonly StageInstance[]): void {
  if (ctx.values.yes) return;
  const runs = plan.filter((s) => s.kind === "train").map((s) => ({
    label: s.id,
    params: s.params,
  }));
  const total = totalSteps(runs);
  if (total <= set.maxTotalSteps) return;
  const biggest = runs.reduce((a, b) => totalSteps([b]) > totalSteps([a]) ? b : a);
  throw new ConfigError(
    `${set.file}:${set.budgetLine}: max_total_steps: the plan totals ${total} optimizer steps ` +
      `over ${runs.length} train runs (largest ${biggest.label}: ${
        totalSteps([biggest])
      }), above ` +
      `the budget of ${set.maxTotalSteps}; pass --yes to run it or raise max_total_steps`,
  );
}

function setup(
  ctx: Ctx,
  cacheDir = (ctx.values["cache-dir"] as string | undefined) ?? ".cache",
): { cache: Cache; runner: Runner; reporter: Reporter } {
  const cache = new Cache(cacheDir);
  const reporter = createReporter({ tty: ctx.tty, write: ctx.write });
  const runner = new Runner({ registry: ctx.registry, cache, reporter, root: ctx.root });
  return { cache, runner, reporter };
}

/**
 * The worker pool of a command that computes with `jobs` > 1, its first worker already importing
 * the stage code (about half a second), which then overlaps reading and planning the experiment
 * file; undefined for one job (stages run in this thread). The caller closes it on every path
 * (`execute` closes it earlier, once its stages are done; closing twice is harmless).
 */
function warmPool(ctx: Ctx, jobs: number): Executor | undefined {
  if (jobs <= 1 || !ctx.registryUrl) return undefined;
  const pool = workerExecutor(ctx.registryUrl, jobs);
  pool.warm?.();
  return pool;
}

/**
 * The plan of a set, with every instance's params checked by its stage kind's `validate` and its
 * runtime resolvable; a problem becomes a ConfigError naming the config file, line and key.
 */
async function validatedPlan(
  ctx: Ctx,
  set: ExperimentSet,
  select?: (plan: StageInstance[]) => StageInstance[],
): Promise<StageInstance[]> {
  const full = planInstances(set, { report: "report" in ctx.registry });
  const byId = new Map(full.map((s) => [s.id, s]));
  // A single-stage job validates only what it runs, so that 10⁴ jobs do not each check 10⁴ stages.
  const plan = select ? select(full) : full;
  const notes = new Map<string, string[]>();
  // Each distinct runtime is resolved once (see StageKind.runtimeParams).
  const resolved = new Set<string>();
  let lastInputs: StageInstance["inputs"] | undefined;
  let upstream: Record<string, Readonly<Record<string, Json>>[]> = {};
  for (const inst of plan) {
    const kind = ctx.registry[inst.kind];
    if (!kind?.validate && !kind?.runtime && !kind?.warnings) continue;
    // A sweep's members read the same upstream: one object for them all.
    if (inst.inputs !== lastInputs) {
      lastInputs = inst.inputs;
      upstream = Object.fromEntries(
        Object.entries(inst.inputs).map((
          [role, ids],
        ) => [role, ids.map((id) => byId.get(id)!.params)]),
      );
    }
    try {
      await kind.validate?.(inst.params, upstream);
      // Resolving the runtime here turns e.g. "webgpu requested, no adapter" into a one-line error.
      const runtime = kind.runtime && runtimeMemoKey(inst.kind, kind, inst.params);
      if (runtime && !resolved.has(runtime)) {
        await kind.runtime!(inst.params);
        resolved.add(runtime);
      }
      for (const note of (await kind.warnings?.(inst.params, upstream)) ?? []) {
        // Pushed, not copied: a note that every member of a 10⁴-run sweep gets stays linear.
        const ids = notes.get(note);
        if (ids) ids.push(inst.id);
        else notes.set(note, [inst.id]);
      }
    } catch (e) {
      const where = inst.origin ?? `${set.file}: ${inst.id}`;
      throw new ConfigError(`${where}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  for (const [note, ids] of notes) {
    const more = ids.length > 1 ? ` and ${ids.length - 1} more` : "";
    ctx.writeErr(`warning: ${note} (${ids[0]}${more})\n`);
  }
  return plan;
}

async function reproduce(ctx: Ctx): Promise<number> {
  noPositionals(ctx, "reproduce");
  const jobs = jobsOf(ctx);
  const executor = ctx.values["dry-run"] ? undefined : warmPool(ctx, jobs);
  try {
    return await reproduceWith(ctx, jobs, executor);
  } finally {
    executor?.close();
  }
}

async function reproduceWith(
  ctx: Ctx,
  jobs: number,
  executor: Executor | undefined,
): Promise<number> {
  const set = await loadSet(ctx);
  const plan = await validatedPlan(ctx, set);
  const patterns = (ctx.values.only as string[] | undefined) ?? [];
  let selected = new Set(plan.map((s) => s.id));
  if (patterns.length > 0) {
    for (const p of patterns) {
      if (!plan.some((s) => matchesPattern(s.id, p))) {
        throw new UsageError(
          `--only ${JSON.stringify(p)} matches no stage of ${set.file} (ids look like ${
            plan[0].id
          }, ${plan.find((s) => s.kind === "train")?.id ?? plan[0].id}; see \`status\`)`,
        );
      }
    }
    selected = new Set(
      plan.filter((s) => patterns.some((p) => matchesPattern(s.id, p))).map((s) => s.id),
    );
  }
  // Without --only everything is selected, and a plan holds its own upstream.
  const sub = patterns.length > 0 ? withUpstream(plan, selected) : plan;
  // Forcing a member of a group recomputes its whole group: say so by forcing them all.
  const force = ctx.values.force ? withGroups(plan, selected) : new Set<string>();
  if (ctx.values["dry-run"]) return await dryRun(ctx, sub, selected, force);
  checkBudget(ctx, set, sub);
  return await execute(ctx, sub, {
    selected: patterns.length > 0 ? selected : undefined,
    force,
    jobs,
    set,
    executor,
  });
}

async function stage(ctx: Ctx): Promise<number> {
  if (ctx.positionals.length !== 1) {
    throw new UsageError(
      `stage takes exactly one STAGE_ID (got ${ctx.positionals.length}); e.g. deno task stage train/fig1-toy/sam-rho0.01-seed0`,
    );
  }
  const id = ctx.positionals[0];
  const jobs = jobsOf(ctx);
  const executor = warmPool(ctx, jobs);
  try {
    const set = await loadSet(ctx);
    const sub = await validatedPlan(ctx, set, (full) => {
      if (!full.some((s) => s.id === id)) throw unknownStage(set, full, id);
      return withUpstream(full, new Set([id]));
    });
    const selected = new Set([id]);
    checkBudget(ctx, set, sub.filter((s) => s.id === id));
    return await execute(ctx, sub, {
      selected,
      force: ctx.values.force ? withGroups(sub, selected) : new Set(),
      jobs,
      set,
      mustReuse: new Set(sub.filter((s) => s.id !== id).map((s) => s.id)),
      publish: !ctx.values["no-publish"],
      executor,
    });
  } finally {
    executor?.close();
  }
}

function unknownStage(set: ExperimentSet, plan: StageInstance[], id: string): UsageError {
  let hint = didYouMean(id, plan.map((s) => s.id));
  if (!hint) {
    const near = plan.filter((s) => s.id.startsWith(id.split("/").slice(0, 2).join("/")))
      .slice(0, 5);
    if (near.length) hint = ` (similar: ${near.map((s) => s.id).join(", ")})`;
  }
  return new UsageError(
    `${set.file} has no stage ${JSON.stringify(id)}${hint}; \`status\` lists them all`,
  );
}

async function publish(ctx: Ctx): Promise<number> {
  noPositionals(ctx, "publish");
  const set = await loadSet(ctx);
  const plan = await validatedPlan(ctx, set);
  return await execute(ctx, plan, {
    force: new Set(),
    jobs: 1,
    set,
    mustReuse: new Set(plan.map((s) => s.id)),
  });
}

async function exportWorkflow(ctx: Ctx): Promise<number> {
  if (ctx.positionals.length !== 1 || ctx.positionals[0] !== "snakemake") {
    throw new UsageError(
      `export takes the workflow engine to export for: snakemake (got ${
        ctx.positionals.length ? JSON.stringify(ctx.positionals.join(" ")) : "nothing"
      }); e.g. deno task export snakemake --config experiments/quick.yaml`,
    );
  }
  const set = await loadSet(ctx);
  const plan = await validatedPlan(ctx, set);
  checkBudget(ctx, set, plan);
  const out = (ctx.values.out as string | undefined) ?? "Snakefile";
  confinePath(out, { what: "--out", access: "write" });
  const abs = (p: string) => resolve(p);
  const cacheDir = abs((ctx.values["cache-dir"] as string | undefined) ?? ".cache");
  const { runner } = setup(ctx);
  const text = await snakefile(plan, {
    recipes: await runner.recipes(plan),
    workdir: abs(ctx.root ?? "."),
    entry: abs(ctx.entry ?? "main.ts"),
    denoConfig: abs(new URL("../deno.json", import.meta.url).pathname),
    codeDir: abs(new URL("..", import.meta.url).pathname),
    configFile: abs(set.file),
    cacheDir,
    resultsDir: abs((ctx.values["results-dir"] as string | undefined) ?? resultsRoot(set)),
    backend: ctx.values.backend as string | undefined,
    ffi: ctx.ffi ?? [],
    source: set.file,
  });
  await Deno.writeTextFile(out, text);
  ctx.write(
    `wrote ${out}: ${plan.length} stage jobs and a publish job for ${set.file}; ` +
      `cache ${cacheDir}. Run: snakemake --cores N -s ${out}\n`,
  );
  return 0;
}

/** What a report instance publishes to the results root. */
const REPORT_FILES = [".csv", ".parquet", ".json", ".md", ".html", ".svg"];

/** What a tabulate instance publishes: its tables as CSV and Parquet, their codebook, checkpoints. */
const TABLE_FILES = [".csv", ".parquet", ".json", ".f64"];

/**
 * Where a set publishes by default: `results/` for the default set (`name: paper`), so the
 * committed results are at the top; `results/<name>/` for any other, so they never overwrite it.
 */
export function resultsRoot(set: ExperimentSet): string {
  return set.name === "paper" ? "results" : `results/${set.name}`;
}

/**
 * `predictions: 27 reproduced, 2 not reproduced, 2 inconclusive; sanity checks: 14 of 14 passed`
 * from a published claims.csv (rows without a kind count as predictions).
 */
async function verdictLine(path: string): Promise<string> {
  const rows = aq.fromCSV(await Deno.readTextFile(path), { autoType: false })
    .objects() as Record<string, string | null>[];
  const counts = new Map<string, number>();
  let sanity = 0, sanityPassed = 0, measurements = 0;
  for (const { verdict, kind } of rows) {
    if (!verdict) continue;
    if (kind === "measurement") {
      measurements++;
      continue;
    }
    if (kind === "sanity") {
      sanity++;
      if (verdict === "reproduced") sanityPassed++;
      continue;
    }
    counts.set(verdict, (counts.get(verdict) ?? 0) + 1);
  }
  const order = ["reproduced", "not reproduced", "inconclusive"];
  const words = [...counts.keys()].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const predictions = `predictions: ${
    words.map((w) => `${counts.get(w)} ${w}`).join(", ") || "none"
  }`;
  return [
    predictions,
    ...(sanity ? [`sanity checks: ${sanityPassed} of ${sanity} passed`] : []),
    ...(measurements ? [`measurements: ${measurements} reported`] : []),
  ].join("; ");
}

async function execute(
  ctx: Ctx,
  plan: StageInstance[],
  opts: {
    selected?: Set<string>;
    force: Set<string>;
    jobs: number;
    set: ExperimentSet;
    mustReuse?: Set<string>;
    publish?: boolean;
    /**
     * Runs the stage code (a worker pool), closed here once the stages are done so that its workers
     * do not idle through publishing; absent: this thread.
     */
    executor?: Executor;
  },
): Promise<number> {
  const cacheDir = cacheDirOf(ctx);
  const doPublish = opts.publish ?? true;
  const resultsDir = doPublish ? resultsDirOf(ctx, opts.set) : "";
  const marker = ctx.values.marker as string | undefined;
  if (marker !== undefined) confinePath(marker, { what: "--marker", access: "write" });
  const { cache, runner, reporter } = setup(ctx, cacheDir);
  const executor = opts.executor;
  // Held until publishing is done: `clean` takes this lock exclusively, so it never deletes an
  // entry a running command still needs.
  const use = await cache.use("shared", {
    onWait: () => ctx.writeErr(`waiting for \`clean\` to finish with ${cacheDir}\n`),
  });
  let summary: RunSummary;
  let published: PublishedFile[] = [];
  // Ctrl-C: one line, not a trace; whatever finished is cached and the same command resumes.
  const onInterrupt = () => {
    ctx.writeErr("\ninterrupted: finished stages are cached; run the same command to resume\n");
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    try {
      summary = await runner.run(plan, { ...opts, executor });
    } finally {
      executor?.close();
      reporter.close();
    }
    const recipes = doPublish ? await runner.recipes(plan) : new Map<string, string>();
    const tables = plan.filter((s) =>
      doPublish && (s.kind === "tabulate" || s.kind === "report") &&
      summary.outcomes.has(s.id) && (!opts.selected || opts.selected.has(s.id))
    ).map((s) =>
      s.kind === "report"
        ? {
          experiment: "",
          extensions: REPORT_FILES,
          recipe: recipes.get(s.id),
          ...summary.outcomes.get(s.id)!,
        }
        : {
          experiment: s.experiment,
          extensions: TABLE_FILES,
          only: ctx.registry[s.kind]?.publishes?.(s.params),
          recipe: recipes.get(s.id),
          ...summary.outcomes.get(s.id)!,
        }
    );
    if (tables.length > 0) {
      // manifest.csv is read, merged and rewritten: one publisher at a time.
      const lock = await cache.lock("publish");
      try {
        published = await publishTables(tables, resultsDir);
      } catch (e) {
        if (e instanceof PipelineError) throw e;
        throw new PipelineError(
          `publishing to ${resultsDir} failed (${
            (e as Error).message
          }); the next run finishes or undoes it`,
        );
      } finally {
        lock.release();
      }
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    use!.release();
  }
  const parts = [`ran ${summary.ran.length}`, `reused ${summary.reused.length}`];
  if (summary.failed.length) parts.push(`failed ${summary.failed.length}`);
  if (summary.skipped.length) parts.push(`skipped ${summary.skipped.length}`);
  ctx.write(
    `${parts.join(", ")} in ${formatDuration(summary.seconds)}` +
      (published.length ? `; published ${published.length} files to ${resultsDir}/` : "") + "\n",
  );
  if (published.some((f) => f.path === "claims.csv")) {
    ctx.write(
      `${await verdictLine(`${resultsDir}/claims.csv`)}; report: ${resultsDir}/report.html\n`,
    );
  }
  // A group's members failed with one error: it is printed once, under the group's label.
  const printed = new Set<Error>();
  for (const f of summary.failed) {
    if (printed.has(f.error)) continue;
    printed.add(f.error);
    const id = f.group ?? f.id;
    if (f.error instanceof PipelineError) ctx.writeErr(`${id} failed: ${f.error.message}\n`);
    else ctx.writeErr(`\n${id} failed:\n${f.error.stack ?? f.error.message}\n`);
  }
  if (summary.failed.length > 0 || summary.skipped.length > 0) return 1;
  if (marker !== undefined) {
    const done = plan.filter((s) => !opts.selected || opts.selected.has(s.id)).map((s) => ({
      id: s.id,
      key: summary.outcomes.get(s.id)?.manifest.key ?? null,
    }));
    await writeFileAtomic(marker, JSON.stringify(done, null, 1) + "\n");
  }
  return 0;
}

async function dryRun(
  ctx: Ctx,
  plan: StageInstance[],
  selected: Set<string>,
  force: Set<string>,
): Promise<number> {
  const { runner } = setup(ctx, cacheDirOf(ctx, "read"));
  const statuses = await runner.status(plan, { force });
  const whyAlso = unselectedReasons(plan);
  const byId = new Map(plan.map((s) => [s.id, s]));
  let would = 0;
  for (const s of statuses) {
    const forced = force.has(s.id);
    if (s.state === "up to date" && !forced) continue;
    would++;
    let reason = forced ? "forced" : describe(s);
    if (!selected.has(s.id)) reason += `; ${whyAlso(byId.get(s.id)!)}`;
    ctx.write(`would run  ${s.id}  (${reason})\n`);
  }
  ctx.write(`${would} would run, ${statuses.length - would} up to date\n`);
  return 0;
}

/** `state` column of the status listing, e.g. `changed (params, code)`. */
export function stateWord(s: InstanceStatus): string {
  return s.state === "changed" ? `changed (${s.changes.join(", ")})` : s.state;
}

async function status(ctx: Ctx): Promise<number> {
  const set = await loadSet(ctx);
  const { runner } = setup(ctx, cacheDirOf(ctx, "read"));
  const plan = await validatedPlan(ctx, set);
  const targets = ctx.positionals;
  for (const t of targets) {
    if (!plan.some((s) => matchesPattern(s.id, t))) {
      throw new UsageError(
        `status: ${JSON.stringify(t)} matches no stage of ${set.file}${
          didYouMean(t, plan.map((s) => s.id))
        }`,
      );
    }
  }
  const shown = new Set(
    plan.filter((s) => !targets.length || targets.some((t) => matchesPattern(s.id, t)))
      .map((s) => s.id),
  );
  const statuses = (await runner.status(withUpstream(plan, shown))).filter((s) => shown.has(s.id));
  // Only a stage missing from the cache needs the published files to vouch for it (a fresh clone).
  const missing = new Set(statuses.filter((s) => s.state === "missing").map((s) => s.id));
  const published = await publishedState(ctx, { set, plan, runner, shown: missing });
  if (ctx.values.json) {
    ctx.write(
      JSON.stringify(
        statuses.map((s) => ({ ...s, published: published.byId.get(s.id) ?? null })),
        null,
        1,
      ) + "\n",
    );
    return 0;
  }
  const width = statuses.reduce((m, s) => Math.max(m, s.id.length), -Infinity);
  const stateWidth = statuses.reduce((m, s) => Math.max(m, stateWord(s).length), -Infinity);
  const counts = new Map<string, number>();
  for (const s of statuses) {
    counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
    const key = s.key ? shortKey(s.key) : "-".repeat(12);
    const pub = published.byId.get(s.id);
    const detail = [s.detail, pub ? `published results ${pub}` : ""].filter(Boolean).join("; ");
    ctx.write(
      `${stateWord(s).padEnd(stateWidth)}  ${s.id.padEnd(width)}  ${key}${
        detail ? `  ${detail}` : ""
      }\n`,
    );
  }
  ctx.write(`${[...counts].map(([k, n]) => `${n} ${k}`).join(", ")}\n`);
  if (published.summary) ctx.write(`${published.summary}\n`);
  return 0;
}

/**
 * Whether the published files of each shown tabulate/report instance come from this code and
 * experiment file: their `recipe` in manifest.csv equals the instance's recipe now. Readable
 * without any cache, so a fresh clone can tell that the committed results match the code.
 */
async function publishedState(
  ctx: Ctx,
  { set, plan, runner, shown }: {
    set: ExperimentSet;
    plan: StageInstance[];
    runner: Runner;
    shown: ReadonlySet<string>;
  },
): Promise<{ byId: Map<string, "current" | "stale">; summary: string }> {
  const dir = (ctx.values["results-dir"] as string | undefined) ?? resultsRoot(set);
  const byId = new Map<string, "current" | "stale">();
  const rows = await readManifest(`${dir}/manifest.csv`).catch(() => []);
  if (rows.length === 0) return { byId, summary: "" };
  const recipes = await runner.recipes(plan);
  for (const inst of plan) {
    if (!shown.has(inst.id) || (inst.kind !== "tabulate" && inst.kind !== "report")) continue;
    const mine = rows.filter((r) => r.stage === inst.id);
    if (mine.length === 0) continue;
    // A manifest of an earlier version has no recipes: nothing to compare.
    if (mine.some((r) => r.recipe === "")) continue;
    byId.set(inst.id, mine.every((r) => r.recipe === recipes.get(inst.id)) ? "current" : "stale");
  }
  if (byId.size === 0) return { byId, summary: "" };
  const current = [...byId.values()].filter((v) => v === "current").length;
  return {
    byId,
    summary: current === byId.size
      ? `published results in ${dir}/ are current: all ${current} publishing stages match this code and ${set.file}`
      : `published results in ${dir}/: ${current} of ${byId.size} publishing stages current, ${
        byId.size - current
      } stale (reproduce republishes them)`,
  };
}

async function clean(ctx: Ctx): Promise<number> {
  noPositionals(ctx, "clean");
  await kinds(ctx);
  if (ctx.values.config && !ctx.values.unused) {
    throw new UsageError("clean: --config only makes sense with --unused");
  }
  const { cache, runner } = setup(ctx, cacheDirOf(ctx));
  if (!ctx.values.unused && !ctx.values.yes) {
    const n = (await cache.keys()).length;
    const question = `Remove all ${n} cache entries in ${cache.dir}?`;
    if (!Deno.stdin.isTerminal()) {
      throw new UsageError(
        `clean without --unused removes all ${n} cache entries in ${cache.dir}: pass --yes (or --unused)`,
      );
    }
    if (!confirm(question)) {
      ctx.write("nothing removed\n");
      return 1;
    }
  }
  const use = await cache.use("exclusive", {
    wait: Boolean(ctx.values.wait),
    onWait: () => ctx.writeErr(`waiting for the running commands on ${cache.dir} to finish\n`),
  });
  if (!use) {
    throw new PipelineError(
      `clean: ${cache.dir} is in use by a running reproduce, stage or publish; ` +
        `rerun clean when it has finished, or pass --wait`,
    );
  }
  try {
    return await cleanLocked(ctx, cache, runner);
  } finally {
    use.release();
  }
}

async function cleanLocked(ctx: Ctx, cache: Cache, runner: Runner): Promise<number> {
  const keep = new Set<string>();
  if (ctx.values.unused) {
    let files = ctx.values.config as string[] | undefined;
    if (!files) {
      files = [];
      for await (const e of Deno.readDir("experiments")) {
        if (e.isFile && /\.ya?ml$/.test(e.name)) files.push(`experiments/${e.name}`);
      }
    }
    for (const f of files.sort()) {
      confinePath(f, { what: "--config", access: "read" });
      for (
        const s of await runner.status(
          planInstances(await loadConfig(f, { runs: ctx.runs }), {
            report: "report" in ctx.registry,
          }),
        )
      ) {
        if (s.state === "up to date" && s.entry) keep.add(s.entry);
      }
    }
  }
  const removed = await cache.clean(keep);
  ctx.write(
    `removed ${removed} cache entries${ctx.values.unused ? `, kept ${keep.size} in use` : ""}\n`,
  );
  return 0;
}
