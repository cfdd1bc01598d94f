/**
 * Experiment set → stage instances (the DAG): `dataset/<exp>`, `train/<exp>/<run>`,
 * `spectral/<exp>/<run>` (when the experiment has a spectral block) and `tabulate/<exp>`.
 * @module
 */
import type { ExperimentSet, Json } from "./config.ts";
import { deepFreeze } from "./hash.ts";

/** One node of the DAG. */
export interface StageInstance {
  /** Readable unique id, e.g. `train/fig1-toy/sam-rho0.01-seed0`. */
  readonly id: string;
  /** Stage kind name (a key of the registry). */
  readonly kind: string;
  /** The experiment the instance belongs to. */
  readonly experiment: string;
  /** JSON-able params handed to the stage. */
  readonly params: Readonly<Record<string, Json>>;
  /** Role → ids of the upstream instances. */
  readonly inputs: Readonly<Record<string, readonly string[]>>;
  /** `file:line: key.path` of the config block the params come from (prefixes validation errors). */
  readonly origin?: string;
  /**
   * Instances with the same group are computed together by their stage kind's `runGroup`, where it
   * has one (the runs one config entry expands to, when it asks for it).
   */
  readonly group?: string;
}

/**
 * Builds the instances of every experiment, upstream before downstream.
 *
 * - dataset params: the dataset block as written;
 * - train params: the resolved run plus `experiment`; input role `dataset`;
 * - spectral params: the spectral block plus `experiment`, and the run's `rho` unless the block sets
 *   it (spectra default to the float64 engine, whatever engine trained); input roles `train` and `dataset`;
 * - tabulate params: `experiment`, `tables` (and `claims` when declared); input roles `dataset`,
 *   `train` and `spectral` (all of the experiment, in run order);
 * - with `report`: one `report/<set name>` instance, params `{ name, experiments: [{ id,
 *   description, dataset }] }`, input role `tabulate` (all).
 */
export function planInstances(
  set: ExperimentSet,
  opts: { report?: boolean } = {},
): StageInstance[] {
  const out: StageInstance[] = [];
  for (const exp of set.experiments) {
    const ds = `dataset/${exp.id}`;
    out.push({
      id: ds,
      kind: "dataset",
      experiment: exp.id,
      params: exp.dataset,
      inputs: {},
      origin: exp.origins?.dataset,
    });
    const trains = exp.runs.map((r) => `train/${exp.id}/${r.label}`);
    // One inputs object and one group id string for all the runs that share them (10⁴ in a sweep).
    const trainInputs = deepFreeze({ dataset: [ds] });
    const groups = new Map<string, string>();
    exp.runs.forEach((r, i) => {
      let group: string | undefined;
      if (r.group !== undefined) {
        group = groups.get(r.group);
        if (group === undefined) groups.set(r.group, group = `${exp.id}: ${r.group}`);
      }
      out.push({
        id: trains[i],
        kind: "train",
        experiment: exp.id,
        params: { ...r.params, experiment: exp.id },
        inputs: trainInputs,
        origin: r.origin,
        ...(group === undefined ? {} : { group }),
      });
    });
    const spectrals: string[] = [];
    if (exp.spectral) {
      exp.runs.forEach((r, i) => {
        const id = `spectral/${exp.id}/${r.label}`;
        spectrals.push(id);
        const params: Record<string, Json> = { ...exp.spectral, experiment: exp.id };
        for (const k of ["rho"]) {
          if (!(k in params) && r.params[k] !== undefined) params[k] = r.params[k];
        }
        out.push({
          id,
          kind: "spectral",
          experiment: exp.id,
          params,
          inputs: { train: [trains[i]], dataset: [ds] },
          origin: exp.origins?.spectral,
        });
      });
    }
    const tabParams: Record<string, Json> = { experiment: exp.id, tables: [...exp.tables] };
    if (exp.claims) tabParams.claims = [...exp.claims];
    out.push({
      id: `tabulate/${exp.id}`,
      kind: "tabulate",
      experiment: exp.id,
      params: tabParams,
      origin: exp.origins?.claims ?? exp.origins?.tables,
      inputs: exp.spectral
        ? { dataset: [ds], train: trains, spectral: spectrals }
        : { dataset: [ds], train: trains },
    });
  }
  if (opts.report) {
    out.push({
      id: `report/${set.name}`,
      kind: "report",
      experiment: "",
      params: {
        name: set.name,
        experiments: set.experiments.map((e) => ({
          id: e.id,
          ...(e.description === undefined ? {} : { description: e.description }),
          dataset: e.dataset,
        })),
      },
      inputs: { tabulate: out.filter((s) => s.kind === "tabulate").map((s) => s.id) },
    });
  }
  // Frozen, so that keys, recipes and runtimes serialize each instance's params once.
  for (const inst of out) deepFreeze(inst.params);
  return out;
}

/**
 * Whether `pattern` selects instance `id`: `*` matches any run of characters and `?` one character,
 * and a pattern selects an id when it matches the whole id or a `/`-bounded prefix of it, so
 * `train/fig1-toy` selects every train run of that experiment and `*\/fig1-toy` the whole experiment.
 */
export function matchesPattern(id: string, pattern: string): boolean {
  const re = new RegExp(
    "^" +
      pattern.split("").map((c) =>
        c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")
      ).join("") + "(/.*)?$",
  );
  return re.test(id);
}

/** `ids` and every member of their groups (a group is computed and cached as one). */
export function withGroups(plan: readonly StageInstance[], ids: ReadonlySet<string>): Set<string> {
  const groups = new Set(plan.filter((s) => ids.has(s.id) && s.group).map((s) => s.group));
  return new Set([...ids, ...plan.filter((s) => groups.has(s.group)).map((s) => s.id)]);
}

/**
 * The selected instances plus everything upstream of them and every member of their groups (a
 * group is computed and cached as one), in plan order.
 */
export function withUpstream(
  plan: readonly StageInstance[],
  selected: ReadonlySet<string>,
): StageInstance[] {
  const byId = new Map(plan.map((s) => [s.id, s]));
  const groups = new Map<string, string[]>();
  for (const s of plan) {
    if (s.group === undefined) continue;
    if (!groups.has(s.group)) groups.set(s.group, []);
    groups.get(s.group)!.push(s.id);
  }
  const need = new Set<string>();
  // Each group's members are visited once (not once per member: a group of N would cost N²).
  const joined = new Set<string>();
  const visit = (id: string) => {
    if (need.has(id)) return;
    need.add(id);
    const inst = byId.get(id)!;
    for (const ids of Object.values(inst.inputs)) ids.forEach(visit);
    if (inst.group !== undefined && !joined.has(inst.group)) {
      joined.add(inst.group);
      groups.get(inst.group)!.forEach(visit);
    }
  };
  selected.forEach(visit);
  return plan.filter((s) => need.has(s.id));
}
