/**
 * Experiment files: YAML → a validated, sweep-expanded experiment set.
 *
 * Every user mistake raises a {@linkcode ConfigError} whose message names the file, the line and
 * the key path, e.g. `experiments/x.yaml:14: experiments[0].train.runs[2].rho must be >= 0 (got -0.1)`.
 * The dataset and spectral blocks are passed through to their stages (which validate their own
 * keys); only their shape and JSON-ability are checked here.
 * @module
 */
import {
  Alias,
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
} from "yaml";
import { digestOnce } from "./hash.ts";

/**
 * Limits that no real experiment reaches and a typo or a hostile file always does, so that the
 * cost of any file is bounded before anything runs (each error names the limit).
 */
export const LIMITS = {
  /** Bytes of an experiment file (`paper.yaml` is about 40 KB). */
  fileBytes: 1 << 20,
  /** The `yaml` package's `maxAliasCount`: alias uses times their size, against alias bombs. */
  aliasCount: 1000,
  /** Stage instances of one file after sweeps (a sweep of 10 000 runs with spectra fits). */
  instances: 100_000,
  /** Default budget of total optimizer steps of a plan; above it `--yes` or `max_total_steps`. */
  totalSteps: 10_000_000_000,
  /**
   * Runs of one group when a grouping field is `true` and the run schema chooses no size (its
   * entry is split into consecutive groups of at most this many): the runs one job computes
   * together, what one failure loses and what a single-run rerun recomputes.
   */
  groupSize: 64,
  /** The largest group a grouping field may ask for (`runs_axis: 2000`). */
  maxGroupSize: 10_000,
} as const;

/** What a grouping field's value becomes in each run's params (see {@linkcode FieldSpec}.groups). */
export interface GroupSummary {
  /** The swept fields, in the entry's order. */
  readonly fields: string[];
  /** The group's number of runs. */
  readonly runs: number;
  /** SHA-256 of the canonical JSON of `{field: [each run's value, in expansion order]}`. */
  readonly values_sha256: string;
  [key: string]: Json;
}

/**
 * The summary of a group whose runs, in expansion order, have the swept values `members` (each a
 * mapping from every field of `fields` to the run's value): what a stage computing the group
 * checks its members against.
 */
export function groupSummary(
  fields: readonly string[],
  members: readonly Readonly<Record<string, Json>>[],
): GroupSummary {
  const values = Object.fromEntries(fields.map((f) => [f, members.map((m) => m[f])]));
  return { fields: [...fields], runs: members.length, values_sha256: digestOnce(values) };
}

/** A mistake in an experiment file (or on the command line): printed as one line, exit code 2. */
export class ConfigError extends Error {
  /** @param message the full one-line message, already prefixed with `file:line:` when known */
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** A JSON-able value as it appears in params. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One train run after defaults are applied and sweeps are expanded. */
export interface RunInstance {
  /** `name` plus `-<field><value>` for each swept field, e.g. `sam-rho0.01-seed0`. */
  readonly label: string;
  /** The fully resolved run fields (name, optimizer, lr, rho, steps, seed, backend, …). */
  readonly params: Readonly<Record<string, Json>>;
  /** Where the run is written, `file:line: key.path`, to prefix errors found after parsing. */
  readonly origin?: string;
  /**
   * Set when the run's entry asks for a grouping field (see {@linkcode FieldSpec}.groups): the id
   * shared by the runs the entry expands to, which a stage kind may compute together.
   */
  readonly group?: string;
}

/** One experiment of the set. */
export interface ExperimentSpec {
  /** `[a-z0-9-]+`, unique in the file. */
  readonly id: string;
  /** Free text. */
  readonly description?: string;
  /** The dataset block: `kind` plus problem params, passed through. */
  readonly dataset: Readonly<Record<string, Json>>;
  /** Expanded runs, in file order (sweeps in cartesian order, the last swept field fastest). */
  readonly runs: readonly RunInstance[];
  /**
   * The spectral block (passed through), absent when the experiment has no spectral analysis.
   * A `backend` key in it is replaced by the `--backend` override too.
   */
  readonly spectral?: Readonly<Record<string, Json>>;
  /** Table names handed to the tabulate stage. */
  readonly tables: readonly string[];
  /** Claims (passed through to tabulate), when the experiment declares any. */
  readonly claims?: readonly Json[];
  /** Where each block is written, `file:line: key.path`, to prefix errors found after parsing. */
  readonly origins?: Readonly<
    { dataset: string; spectral?: string; claims?: string; tables?: string }
  >;
}

/** A validated experiment file. */
export interface ExperimentSet {
  /** Path the set was read from (as given). */
  readonly file: string;
  /** The set's name. */
  readonly name: string;
  /** Default backend of runs that name none. */
  readonly backend: string;
  /** The experiments, in file order. */
  readonly experiments: readonly ExperimentSpec[];
  /** Budget of total optimizer steps (`max_total_steps`, default {@linkcode LIMITS}.totalSteps). */
  readonly maxTotalSteps: number;
  /** Line of `max_total_steps` (or 1), for the budget message. */
  readonly budgetLine: number;
}

/**
 * The fields a run may set, declared by the stage kind that runs them (the pipeline knows only
 * `name` and `backend`): each field's check, whether its value is itself a list (so that only a
 * list of lists sweeps), and which fields a run must have. The order of `fields` is the order of
 * swept values in instance labels.
 */
export interface RunSchema {
  /** Field name → its spec. */
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /** Fields every run must have (in the run or in the defaults). */
  readonly required: readonly string[];
  /**
   * The group size a grouping field set to `true` means for one entry, given its runs' params (in
   * expansion order) and the experiment's `dataset` block; absent, {@linkcode LIMITS}.groupSize.
   * Clamped to 1…{@linkcode LIMITS}.maxGroupSize.
   */
  readonly groupSize?: (
    runs: readonly Readonly<Record<string, Json>>[],
    dataset: Readonly<Record<string, Json>>,
  ) => number;
}

/** Options for {@linkcode parseConfig} and {@linkcode loadConfig}. */
export interface ConfigOptions {
  /** The run fields (from the stage kinds). */
  readonly runs: RunSchema;
  /** Replaces the backend of every run (the `--backend` flag). */
  readonly backend?: string;
}

/** A field check: null when the value is valid, else what is wrong ("must be …"). */
export type Check = (v: Json) => string | null;

const ID_RE = /^[a-z0-9-]+$/;
const TABLE_RE = /^[a-z0-9_-]+$/;

const isNum = (v: Json): v is number => typeof v === "number";

/** A number satisfying `pred`, described as `what` ("> 0"). */
export const numberField = (pred: (x: number) => boolean, what: string): Check => (v) =>
  !isNum(v) ? "must be a number" : pred(v) ? null : `must be ${what}`;

/** An integer ≥ `min` (none when null) and, when given, ≤ `max`. */
export const integerField = (min: number | null, max?: number): Check => (v) =>
  !isNum(v) || !Number.isInteger(v)
    ? "must be an integer"
    : max !== undefined && (v > max || (min !== null && v < min))
    ? `must be an integer in [${min}, ${max}]`
    : min !== null && v < min
    ? `must be >= ${min}`
    : !Number.isSafeInteger(v)
    ? `must be an integer of at most ${Number.MAX_SAFE_INTEGER}`
    : null;

/** A name (a-z, 0-9, -): which names exist is for the stage kinds to judge. */
export const nameField: Check = (v) =>
  typeof v === "string" && /^[a-z0-9-]+$/.test(v) ? null : "must be a name (a-z, 0-9, -)";

/** A non-empty list of numbers (a vector field). */
export const numberListField: Check = (v) =>
  Array.isArray(v) && v.length > 0 && v.every(isNum) ? null : "must be a non-empty list of numbers";

/** true, false or a group size: what a grouping field ({@linkcode FieldSpec}.groups) takes. */
export const groupingField: Check = (v) =>
  typeof v === "boolean" ||
    (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= LIMITS.maxGroupSize)
    ? null
    : `must be true, false or a group size (an integer 1…${LIMITS.maxGroupSize})`;

/** A mapping (its fields are for the stage kind to check). */
export const mappingField: Check = (v) =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? null : "must be a mapping";

/** One run field: its check, and whether its value is itself a list. */
export interface FieldSpec {
  /** Null when valid, else the problem. */
  readonly check: Check;
  /** The value itself is a list, so only a list of lists sweeps. */
  readonly vector?: boolean;
  /**
   * An integer field that also sweeps a range, `{range: [start, stop]}` or
   * `{range: [start, stop, step]}`: start, start + step, … below stop (step ≥ 1, default 1).
   */
  readonly ranges?: boolean;
  /**
   * A field that groups (checked by {@linkcode groupingField}): when an entry sets it true or to a
   * size, the runs the entry's sweeps expand to form groups of consecutive runs
   * (`RunInstance.group`; at most {@linkcode RunSchema}.groupSize each, by default
   * {@linkcode LIMITS}.groupSize, or the size given), and
   * the field's value in each run's params becomes its group's summary ({@linkcode groupSummary}:
   * the swept fields, the number of runs and the digest of their values in expansion order), so a
   * run's cache key covers the group it is computed with at a constant size per run (an entry
   * that sweeps nothing groups its one run, with no fields).
   * It cannot itself be swept; false drops it from the params.
   */
  readonly groups?: boolean;
}

/** The run fields every schema has: the backend a run asks for (`--backend` overrides it). */
const BACKEND_FIELD: FieldSpec = { check: nameField };

/** The schema's fields plus `backend` (last unless the schema places it). */
function runFieldsOf(schema: RunSchema): Readonly<Record<string, FieldSpec>> {
  return "backend" in schema.fields ? schema.fields : { ...schema.fields, backend: BACKEND_FIELD };
}

const TOP_KEYS = ["name", "description", "backend", "max_total_steps", "experiments"];
const EXPERIMENT_KEYS = ["id", "description", "dataset", "train", "spectral", "tables", "claims"];
const TRAIN_KEYS = ["defaults", "runs"];

/**
 * Reads and validates an experiment file; a missing, unreadable, oversized or non-text file is a
 * {@linkcode ConfigError} (the size is checked before reading, and at most the limit is read).
 */
export async function loadConfig(path: string, opts: ConfigOptions): Promise<ExperimentSet> {
  let bytes: Uint8Array;
  try {
    const f = await Deno.open(path, { read: true });
    try {
      const info = await f.stat();
      if (!info.isFile) throw new ConfigError(`${path}:1: the file is not a regular file`);
      if (info.size > LIMITS.fileBytes) throw tooBig(path, info.size);
      // Read one byte past the limit: a file growing while read is caught too.
      const buf = new Uint8Array(LIMITS.fileBytes + 1);
      let n = 0;
      for (;;) {
        const got = await f.read(buf.subarray(n));
        if (got === null) break;
        n += got;
        if (n > LIMITS.fileBytes) throw tooBig(path, n);
      }
      bytes = buf.subarray(0, n);
    } finally {
      f.close();
    }
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`${path}: cannot read experiment file (${(e as Error).message})`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ConfigError(`${path}:1: the file is not UTF-8 text (an experiment file is YAML)`);
  }
  return parseConfig(text, path, opts);
}

function tooBig(path: string, size: number): ConfigError {
  return new ConfigError(
    `${path}:1: the file has ${size} bytes, over the limit of ${LIMITS.fileBytes} bytes for an experiment file`,
  );
}

/** Validates the YAML text of an experiment file named `file` (used in messages). */
export function parseConfig(text: string, file: string, opts: ConfigOptions): ExperimentSet {
  const nul = text.indexOf("\0");
  if (nul >= 0) {
    const line = text.slice(0, nul).split("\n").length;
    throw new ConfigError(`${file}:${line}: the file holds a NUL byte: not YAML text`);
  }
  if (text.length > LIMITS.fileBytes) throw tooBig(file, text.length);
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const line = err.linePos?.[0].line ?? 1;
    throw new ConfigError(
      `${file}:${line}: invalid YAML: ${
        printable(err.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, ""))
      }`,
    );
  }
  try {
    doc.toJS({ maxAliasCount: LIMITS.aliasCount });
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    const [node, path] = firstAlias(doc.contents as Node | null, "") ?? [null, "the top level"];
    const line = node?.range ? lc.linePos(node.range[0]).line : 1;
    throw new ConfigError(
      `${file}:${line}: ${path}: YAML aliases expand too far (over maxAliasCount ${LIMITS.aliasCount})`,
    );
  }
  return new Validator(file, lc, doc).top(opts);
}

/** The first alias node in document order and its key path. */
function firstAlias(node: Node | null, path: string): [Node, string] | null {
  if (node instanceof Alias) return [node, path || "the top level"];
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      if (pair.key instanceof Alias) return [pair.key, path || "the top level"];
      const k = isScalar(pair.key) ? String(pair.key.value) : "?";
      const hit = firstAlias(pair.value as Node | null, path ? `${path}.${k}` : k);
      if (hit) return hit;
    }
  }
  if (isSeq(node)) {
    for (const [i, item] of node.items.entries()) {
      const hit = firstAlias(item as Node | null, `${path}[${i}]`);
      if (hit) return hit;
    }
  }
  return null;
}

/**
 * A value as an error message shows it: JSON, non-ASCII and control characters escaped, elided past
 * 60 characters (an error must not echo a file's raw content).
 */
export function printable(text: string): string {
  const esc = text.replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return esc.length <= 60 ? esc : `${esc.slice(0, 57)}…`;
}

const show = (v: unknown) => printable(JSON.stringify(v) ?? String(v));

/** Total optimizer steps of a set's runs (a `max` step runs `inner_steps` ascent steps too). */
export function totalSteps(runs: readonly RunInstance[]): number {
  let total = 0;
  for (const r of runs) {
    const inner = r.params.optimizer === "max" ? (r.params.inner_steps as number ?? 1) : 0;
    total += (r.params.steps as number) * (1 + inner);
  }
  return total;
}

/** Walks the YAML tree, so every error knows the line of the offending node. */
class Validator {
  /** Stage instances counted so far (sweeps included), against {@linkcode LIMITS}.instances. */
  private instances = 1;

  constructor(
    private readonly file: string,
    private readonly lc: LineCounter,
    private readonly doc: Document,
  ) {}

  private line(node: Node | null | undefined, fallback?: Node | null): number {
    const range = node?.range ?? fallback?.range;
    return range ? this.lc.linePos(range[0]).line : 1;
  }

  /** `file:line: path` of a node, the prefix of errors that stages find in its values later. */
  private origin(node: unknown, path: string): string {
    return `${this.file}:${this.line(this.deref(node))}: ${path}`;
  }

  private fail(node: Node | null | undefined, message: string, fallback?: Node | null): never {
    throw new ConfigError(`${this.file}:${this.line(node, fallback)}: ${message}`);
  }

  private deref(node: unknown): Node | null {
    if (node instanceof Alias) return (node.resolve(this.doc) ?? null) as Node | null;
    return (node ?? null) as Node | null;
  }

  /** JS value of a node, checked to be JSON-able (YAML allows .inf, .nan …). */
  private json(node: Node | null, path: string): Json {
    node = this.deref(node);
    if (node === null) return null;
    if (isMap(node)) {
      const out: Record<string, Json> = {};
      for (const pair of node.items) {
        const key = this.key(pair.key as Node, path);
        out[key] = this.json(pair.value as Node, `${path}.${key}`);
      }
      return out;
    }
    if (isSeq(node)) return node.items.map((n, i) => this.json(n as Node, `${path}[${i}]`));
    if (isScalar(node)) {
      const v = node.value;
      if (v === null || typeof v === "string" || typeof v === "boolean") return v;
      if (typeof v === "number" && Number.isFinite(v)) return v;
      this.fail(
        node,
        `${path || "the top level"} must be a finite number, string, boolean or null (got ${
          printable(String(v))
        })`,
      );
    }
    this.fail(node, `${path} has an unsupported YAML value`);
  }

  private key(node: Node, path: string): string {
    node = this.deref(node)!;
    if (!isScalar(node) || typeof node.value !== "string") {
      this.fail(node, `${path || "the top level"} has a non-string key`);
    }
    return node.value as string;
  }

  /** Entries of a mapping node, checking for unknown keys when `valid` is given. */
  private map(
    node: Node | null,
    path: string,
    opts: { valid?: readonly string[]; parent?: Node | null } = {},
  ): Map<string, { key: Node; value: Node | null }> {
    node = this.deref(node);
    if (!isMap(node)) {
      this.fail(
        node,
        `${path || "the top level"} must be a mapping (got ${this.describe(node)})`,
        opts.parent,
      );
    }
    const out = new Map<string, { key: Node; value: Node | null }>();
    for (const pair of node.items) {
      const k = this.key(pair.key as Node, path);
      const full = path ? `${path}.${k}` : k;
      if (opts.valid && !opts.valid.includes(k)) {
        this.fail(
          pair.key as Node,
          `${printable(full)} is not a valid key (valid: ${opts.valid.join(", ")})`,
        );
      }
      out.set(k, { key: pair.key as Node, value: this.deref(pair.value) });
    }
    return out;
  }

  private describe(node: Node | null): string {
    if (node === null || (isScalar(node) && node.value === null)) return "nothing";
    if (isSeq(node)) return "a list";
    if (isMap(node)) return "a mapping";
    if (isScalar(node) && typeof node.value === "string" && node.value.length > 60) {
      return "a long string";
    }
    return show(isScalar(node) ? node.value : String(node));
  }

  private str(node: Node | null, path: string, re?: RegExp, parent?: Node | null): string {
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v !== "string") {
      this.fail(node, `${path} must be a string (got ${this.describe(node)})`, parent);
    }
    if (re && !re.test(v)) {
      this.fail(node, `${path} must match ${re.source} (got ${show(v)})`, parent);
    }
    return v;
  }

  top(opts: ConfigOptions): ExperimentSet {
    const root = this.doc.contents as Node | null;
    if (root === null) this.fail(null, "the file is empty (expected name, backend, experiments)");
    const m = this.map(root, "", { valid: TOP_KEYS });
    const name = this.required(m, "name", root, (n, p) => this.str(n, p, ID_RE));
    const backendNode = m.get("backend");
    let backend = "auto";
    if (backendNode) {
      backend = this.checked(
        backendNode.value,
        "backend",
        BACKEND_FIELD.check,
        backendNode.key,
      ) as string;
    }
    if (opts.backend !== undefined) {
      const problem = BACKEND_FIELD.check(opts.backend);
      if (problem) {
        throw new ConfigError(`--backend ${problem} (got ${JSON.stringify(opts.backend)})`);
      }
    }
    const exps = this.required(m, "experiments", root, (n, p) => {
      if (!isSeq(n) || n.items.length === 0) {
        this.fail(
          n,
          `${p} must be a non-empty list (got ${this.describe(n)})`,
          m.get("experiments")!.key,
        );
      }
      return n.items.map((e, i) =>
        this.experiment(this.deref(e), `experiments[${i}]`, backend, opts, n)
      );
    });
    let maxTotalSteps: number = LIMITS.totalSteps;
    let budgetLine = 1;
    const budget = m.get("max_total_steps");
    if (budget) {
      maxTotalSteps = this.checked(
        budget.value,
        "max_total_steps",
        integerField(1),
        budget.key,
      ) as number;
      budgetLine = this.line(budget.key);
    }
    const seen = new Map<string, number>();
    exps.forEach((e, i) => {
      const prev = seen.get(e.id);
      if (prev !== undefined) {
        const node = this.deref(
          (m.get("experiments")!.value as unknown as { items: Node[] }).items[i],
        );
        this.fail(
          node,
          `experiments[${i}].id ${JSON.stringify(e.id)} duplicates experiments[${prev}].id`,
        );
      }
      seen.set(e.id, i);
    });
    return { file: this.file, name, backend, experiments: exps, maxTotalSteps, budgetLine };
  }

  private required<T>(
    m: Map<string, { key: Node; value: Node | null }>,
    key: string,
    owner: Node | null,
    parse: (n: Node | null, path: string) => T,
    prefix = "",
  ): T {
    const entry = m.get(key);
    const path = prefix ? `${prefix}.${key}` : key;
    if (!entry) this.fail(owner, `${path} is required`);
    return parse(entry.value, path);
  }

  private checked(node: Node | null, path: string, check: Check, parent?: Node | null): Json {
    const v = this.json(node, path);
    const problem = check(v);
    if (problem) this.fail(node, `${path} ${problem} (got ${show(v)})`, parent);
    return v;
  }

  private experiment(
    node: Node | null,
    path: string,
    backend: string,
    opts: ConfigOptions,
    parent: Node,
  ): ExperimentSpec {
    const m = this.map(node, path, { valid: EXPERIMENT_KEYS, parent });
    const id = this.required(m, "id", node, (n, p) => this.str(n, p, ID_RE), path);
    const description = m.has("description")
      ? this.str(
        m.get("description")!.value,
        `${path}.description`,
        undefined,
        m.get("description")!.key,
      )
      : undefined;
    const dataset = this.required(m, "dataset", node, (n, p) => {
      const dm = this.map(n, p, { parent: m.get("dataset")!.key });
      if (!dm.has("kind")) this.fail(n, `${p}.kind is required`);
      this.str(dm.get("kind")!.value, `${p}.kind`, ID_RE, dm.get("kind")!.key);
      return this.json(n, p) as Record<string, Json>;
    }, path);
    // dataset and tabulate, then per run a train and (with a spectral block) a spectral instance
    this.instances += 2;
    const perRun = m.has("spectral") ? 2 : 1;
    const runs = this.required(
      m,
      "train",
      node,
      (n, p) => this.train(n, p, { backend, opts, parent: m.get("train")!.key, perRun, dataset }),
      path,
    );
    let spectral: Record<string, Json> | undefined;
    if (m.has("spectral")) {
      const s = m.get("spectral")!;
      this.map(s.value, `${path}.spectral`, { parent: s.key });
      spectral = this.json(s.value, `${path}.spectral`) as Record<string, Json>;
      if (opts.backend !== undefined && "backend" in spectral) spectral.backend = opts.backend;
    }
    const tables = this.required(m, "tables", node, (n, p) => {
      if (!isSeq(n) || n.items.length === 0) {
        this.fail(
          n,
          `${p} must be a non-empty list of table names (got ${this.describe(n)})`,
          m.get("tables")!.key,
        );
      }
      const names = n.items.map((t, i) => this.str(this.deref(t), `${p}[${i}]`, TABLE_RE, n));
      const dup = names.find((t, i) => names.indexOf(t) !== i);
      if (dup !== undefined) this.fail(n, `${p} lists ${JSON.stringify(dup)} twice`);
      return names;
    }, path);
    let claims: Json[] | undefined;
    if (m.has("claims")) {
      const c = m.get("claims")!;
      if (!isSeq(c.value)) {
        this.fail(c.value, `${path}.claims must be a list (got ${this.describe(c.value)})`, c.key);
      }
      claims = this.json(c.value, `${path}.claims`) as Json[];
    }
    const origins = {
      dataset: this.origin(m.get("dataset")?.value, `${path}.dataset`),
      spectral: spectral && this.origin(m.get("spectral")?.value, `${path}.spectral`),
      claims: claims && this.origin(m.get("claims")?.value, `${path}.claims`),
      tables: this.origin(m.get("tables")?.value, `${path}.tables`),
    };
    return { id, description, dataset, runs, spectral, tables, claims, origins };
  }

  private train(
    node: Node | null,
    path: string,
    ctx: {
      backend: string;
      opts: ConfigOptions;
      parent: Node;
      perRun: number;
      dataset: Readonly<Record<string, Json>>;
    },
  ): RunInstance[] {
    const { backend, opts, parent } = ctx;
    const m = this.map(node, path, { valid: TRAIN_KEYS, parent });
    const defaults = m.has("defaults")
      ? this.runFields(m.get("defaults")!.value, `${path}.defaults`, {
        isRun: false,
        fields: runFieldsOf(ctx.opts.runs),
        parent: m.get("defaults")!.key,
      })
      : new Map<string, Json | Sweep>();
    const runsNode = m.get("runs");
    if (!runsNode) this.fail(node, `${path}.runs is required`);
    if (!isSeq(runsNode.value) || runsNode.value.items.length === 0) {
      this.fail(
        runsNode.value,
        `${path}.runs must be a non-empty list (got ${this.describe(runsNode.value)})`,
        runsNode.key,
      );
    }
    const out: RunInstance[] = [];
    const owner = new Map<string, number>();
    runsNode.value.items.forEach((item, i) => {
      const rnode = this.deref(item);
      const rpath = `${path}.runs[${i}]`;
      const fields = this.runFields(rnode, rpath, {
        isRun: true,
        fields: runFieldsOf(ctx.opts.runs),
        parent: runsNode.value,
      });
      const name = fields.get("name") as string;
      const merged = new Map<string, Json | Sweep>(defaults);
      for (const [k, v] of fields) if (k !== "name") merged.set(k, v);
      if (!merged.has("backend")) merged.set("backend", backend);
      if (opts.backend !== undefined) merged.set("backend", opts.backend);
      for (const req of opts.runs.required) {
        if (!merged.has(req)) {
          this.fail(rnode, `${rpath}.${req} is required (in the run or in ${path}.defaults)`);
        }
      }
      // Counted before expanding, so a sweep of 10⁶ runs fails here in microseconds.
      let count = 1;
      for (const v of merged.values()) if (v instanceof Sweep) count *= v.values.length;
      this.instances += count * ctx.perRun;
      if (this.instances > LIMITS.instances) {
        this.fail(
          rnode,
          `${rpath} expands to ${count} runs, which takes the file past the limit of ${LIMITS.instances} stage instances`,
        );
      }
      const schema = runFieldsOf(ctx.opts.runs);
      const expanded = expand(name, merged, schema);
      const grouping = Object.keys(schema).filter((k) => schema[k].groups && merged.has(k));
      const sizes: number[] = [];
      for (const k of grouping) {
        const v = merged.get(k);
        if (v instanceof Sweep) {
          this.fail(
            rnode,
            `${rpath}.${k} cannot be swept (got a list; it takes true, false or a group size)`,
          );
        }
        if (v === true) {
          const chosen = opts.runs.groupSize?.(expanded.map((e) => e.params), ctx.dataset);
          sizes.push(chosen === undefined ? LIMITS.groupSize : Math.max(1, Math.floor(chosen)));
        } else if (v !== false) sizes.push(v as number);
      }
      const size = Math.min(LIMITS.maxGroupSize, ...sizes);
      const swept = [...merged].filter(([, v]) => v instanceof Sweep).map(([k]) => k);
      const values = expanded.map((inst) =>
        Object.fromEntries(swept.map((k) => [k, inst.params[k]])) as Json
      );
      // One summary per group, shared by its members: a constant size per run (a run's params
      // appear in every manifest, index and message that lists it).
      const groupValues = new Map<number, Json>();
      const valuesOf = (chunk: number): Json => {
        let v = groupValues.get(chunk);
        if (v === undefined) {
          const members = values.slice(chunk * size, (chunk + 1) * size);
          v = groupSummary(swept, members as Record<string, Json>[]);
          groupValues.set(chunk, v);
        }
        return v;
      };
      const origin = this.origin(rnode, rpath);
      for (const [at, inst] of expanded.entries()) {
        let group: string | undefined;
        const params = inst.params as Record<string, Json>;
        const chunk = Math.floor(at / size);
        for (const k of grouping) {
          if (params[k] !== false) {
            params[k] = valuesOf(chunk);
            group = `${rpath}#${chunk}`;
          } else delete params[k];
        }
        if (group !== undefined) (inst as { group?: string }).group = group;
        const prev = owner.get(inst.label);
        if (prev !== undefined) {
          this.fail(
            rnode,
            `${rpath} gives run ${
              JSON.stringify(inst.label)
            } again (already from ${path}.runs[${prev}])`,
          );
        }
        owner.set(inst.label, i);
        out.push({ ...inst, origin });
      }
    });
    return out;
  }

  /**
   * Validates run fields; a swept field maps to a `Sweep` of values (each checked, with its own line).
   * `name` is allowed (and required) only in runs, not in defaults.
   */
  private runFields(
    node: Node | null,
    path: string,
    { isRun, fields, parent }: {
      isRun: boolean;
      fields: Readonly<Record<string, FieldSpec>>;
      parent: Node | null;
    },
  ): Map<string, Json | Sweep> {
    const valid = isRun ? ["name", ...Object.keys(fields)] : Object.keys(fields);
    const m = this.map(node, path, { valid, parent });
    const out = new Map<string, Json | Sweep>();
    if (isRun) {
      out.set(
        "name",
        this.required(m, "name", node, (n, p) => this.str(n, p, ID_RE), path),
      );
    }
    for (const [k, { key, value }] of m) {
      if (k === "name") continue;
      const spec = fields[k];
      const p = `${path}.${k}`;
      if (spec.ranges && isMap(value)) {
        const values = this.range(value, p, spec.check);
        out.set(k, new Sweep(values));
        continue;
      }
      const sweeps = isSeq(value) &&
        (!spec.vector || value.items.some((n) => isSeq(this.deref(n))));
      if (!sweeps) {
        out.set(k, this.checked(value, p, spec.check, key));
        continue;
      }
      if (value.items.length === 0) this.fail(value, `${p} must not be an empty list`);
      const values = value.items.map((n, i) =>
        this.checked(this.deref(n), `${p}[${i}]`, spec.check, value)
      );
      out.set(k, new Sweep(values));
    }
    return out;
  }

  /**
   * The values of a range sweep (`{range: [start, stop, step?]}`), each checked; its size is
   * checked against {@linkcode LIMITS}.instances before any value is made.
   */
  private range(node: Node, path: string, check: Check): Json[] {
    const m = this.map(node, path, { valid: ["range"] });
    const spec = m.get("range");
    const bounds = spec === undefined ? undefined : this.json(spec.value, `${path}.range`);
    const ok = Array.isArray(bounds) && (bounds.length === 2 || bounds.length === 3) &&
      bounds.every((b) => Number.isSafeInteger(b));
    if (!ok) {
      this.fail(
        spec?.value ?? node,
        `${path}.range must be [start, stop] or [start, stop, step] with integers (got ${
          show(bounds ?? null)
        })`,
      );
    }
    const [start, stop, step = 1] = bounds as number[];
    if (step < 1) this.fail(spec!.value, `${path}.range: step must be >= 1 (got ${step})`);
    const count = Math.ceil((stop - start) / step);
    if (count < 1) {
      this.fail(spec!.value, `${path}.range is empty: stop ${stop} must be above start ${start}`);
    }
    if (count > LIMITS.instances) {
      this.fail(
        spec!.value,
        `${path}.range has ${count} values, past the limit of ${LIMITS.instances} stage instances`,
      );
    }
    const values = Array.from({ length: count }, (_, i) => start + i * step);
    for (const v of values) {
      const problem = check(v);
      if (problem !== null) this.fail(spec!.value, `${path}.range: ${v} ${problem}`);
    }
    return values;
  }
}

/** Marks a swept field's values (a plain array would be ambiguous for vector fields). */
class Sweep {
  constructor(readonly values: readonly Json[]) {}
}

/** Cartesian product over the swept fields, in the schema's order (the last one fastest). */
function expand(
  name: string,
  fields: Map<string, Json | Sweep>,
  schema: Readonly<Record<string, FieldSpec>>,
): RunInstance[] {
  const order = Object.keys(schema).filter((k) => fields.has(k));
  let combos: { label: string; params: Record<string, Json> }[] = [{
    label: name,
    params: { name },
  }];
  for (const k of order) {
    const v = fields.get(k)!;
    const next: typeof combos = [];
    for (const c of combos) {
      if (v instanceof Sweep) {
        for (const x of v.values) {
          next.push({ label: `${c.label}-${k}${formatValue(x)}`, params: { ...c.params, [k]: x } });
        }
      } else next.push({ label: c.label, params: { ...c.params, [k]: v } });
    }
    combos = next;
  }
  return combos;
}

/** Label form of a swept value: `0.01`, `sam`, or `_1_1_0.3` for a vector. */
function formatValue(v: Json): string {
  return Array.isArray(v) ? v.map((x) => `_${x}`).join("") : String(v);
}
