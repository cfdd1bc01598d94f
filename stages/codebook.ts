/**
 * The codebook of the published tables: each column's type, unit and meaning, and the meaning of
 * every metric name the tidy tables carry. It types the Parquet files (so an integer stays an
 * integer and an all-missing column keeps its type) and is written as `schema.json` beside them.
 * Missing values: an empty CSV field, a Parquet null; NaN only where a computation produced NaN
 * (a quantity undefined at that point, e.g. the alignment where ∇L = 0).
 * @module
 */

/** Column types of the codebook (Parquet: STRING, INT64, DOUBLE, BOOLEAN). */
export type ColumnType = "string" | "integer" | "number" | "boolean";

/** One column of a published table. */
export interface ColumnDef {
  /** Column name. */
  readonly name: string;
  /** Type; every type admits missing values (empty in CSV, null in Parquet). */
  readonly type: ColumnType;
  /** Unit: "1" for dimensionless quantities, "steps", or "" where none applies (names, labels). */
  readonly unit: string;
  /** What the column holds. */
  readonly description: string;
}

type Def = Omit<ColumnDef, "name">;

const RUN: Readonly<Record<string, Def>> = {
  experiment: {
    type: "string",
    unit: "",
    description: "experiment id (`id:` in the experiment file)",
  },
  run: {
    type: "string",
    unit: "",
    description: "run name, unique within the experiment; names the swept values",
  },
  optimizer: {
    type: "string",
    unit: "",
    description:
      "optimizer kind (gd, sgd, sam, usam, 1sam, minibatch-sam, asc-exact, max, avg, label-noise-sgd)",
  },
  lr: { type: "number", unit: "1", description: "learning rate η" },
  rho: {
    type: "number",
    unit: "1",
    description: "perturbation radius ρ (for optimizers that ignore it, it only sets the clock τ)",
  },
  batch: {
    type: "integer",
    unit: "samples",
    description: "mini-batch size b; missing for full-batch methods",
  },
  seed: {
    type: "integer",
    unit: "",
    description: "seed of the run's random stream (initialization, sampling)",
  },
  steps: { type: "integer", unit: "steps", description: "optimizer steps the run was asked for" },
  sigma: {
    type: "number",
    unit: "1",
    description: "label-noise standard deviation σ; missing when not label-noise SGD",
  },
  init_scale: {
    type: "number",
    unit: "1",
    description:
      "scale of the random initialization; missing when x0 is given or the data set's default is used",
  },
  x0: {
    type: "string",
    unit: "1",
    description: "initial point as a JSON array; missing when drawn at random",
  },
};

/** Columns identifying a run, in the order every table carries them. */
export const RUN_COLUMNS = Object.keys(RUN);

const COMMON: Readonly<Record<string, Def>> = {
  step: { type: "integer", unit: "steps", description: "optimizer step t" },
  tau: { type: "number", unit: "1", description: "slow time τ = ηρ²t of the paper's flows" },
  metric: { type: "string", unit: "", description: "metric name (see `metrics`)" },
  value: {
    type: "number",
    unit: "1",
    description: "the metric's value; NaN where it is undefined at that point",
  },
  coordinate: { type: "integer", unit: "", description: "parameter index i of x_i (1-based)" },
  backend: {
    type: "string",
    unit: "",
    description: "engine the run used (f64, cpu, wasm, webgpu)",
  },
  adapter: {
    type: "string",
    unit: "",
    description:
      "the WebGPU adapter Deno saw for a run asking for auto or webgpu (missing otherwise); " +
      "auto uses it only when it is not a [fallback] (software) adapter",
  },
  diverged: {
    type: "string",
    unit: "",
    description: "divergence message (step, η, ρ); missing when the run completed",
  },
  flow: {
    type: "string",
    unit: "",
    description: "limiting flow: `sam` (λ1 flow, Thm 4.5) or `1sam` (Tr flow, Thm 5.4)",
  },
  tracking_error: {
    type: "number",
    unit: "1",
    description: "‖X(τ) − flow(Φ(x0), τ)‖ against the η → 0 flow",
  },
  tracking_error_corrected: {
    type: "number",
    unit: "1",
    description: "the same against the flow with the finite-η factor",
  },
  start: {
    type: "integer",
    unit: "steps",
    description: "step at which the logged window starts (Φ and v1 computed there)",
  },
  proj: { type: "number", unit: "1", description: "⟨x_t − Φ(x_start), v1(x_start)⟩" },
  sign: { type: "integer", unit: "", description: "sign of proj (−1, 0, 1)" },
  spectral_step: {
    type: "integer",
    unit: "steps",
    description: "step of the last analysed checkpoint",
  },
  claim_id: { type: "string", unit: "", description: "claim id, unique within the experiment" },
  kind: {
    type: "string",
    unit: "",
    description: "`prediction` (counted in the headline) or `sanity` (checks the code)",
  },
  requires: {
    type: "string",
    unit: "",
    description: "the claim's assumption checks in words with measured values; empty when none",
  },
  source: {
    type: "string",
    unit: "",
    description: "where the paper states it (theorem, figure, table)",
  },
  statement: {
    type: "string",
    unit: "",
    description: "the prediction in words, with where its tolerance comes from",
  },
  predicted: { type: "number", unit: "1", description: "predicted value or bound" },
  measured: {
    type: "number",
    unit: "1",
    description: "measured value (worst case over the runs or seed groups the claim covers)",
  },
  spread: {
    type: "number",
    unit: "1",
    description:
      "standard deviation over seeds or the fit's standard error; NaN when there is none",
  },
  tolerance: {
    type: "number",
    unit: "1",
    description: "allowed deviation in the sense of `compare`",
  },
  compare: { type: "string", unit: "", description: "abs | rel | at_most | at_least" },
  verdict: { type: "string", unit: "", description: "reproduced | not reproduced | inconclusive" },
  note: {
    type: "string",
    unit: "",
    description: "every case's value, or why the data could not decide",
  },
};

/** Meanings of the metric names (tidy tables' `metric`, summary columns, `spectral_` columns). */
const METRICS: readonly [RegExp, Def][] = [
  [/^loss$/, { type: "number", unit: "1", description: "training loss L(x)" }],
  [/^test_loss$/, {
    type: "number",
    unit: "1",
    description: "held-out mean squared error (Setting 5.1 models)",
  }],
  [/^grad_norm$/, { type: "number", unit: "1", description: "‖∇L(x)‖" }],
  [/^param_norm$/, { type: "number", unit: "1", description: "‖x‖" }],
  [/^sample$/, {
    type: "integer",
    unit: "",
    description: "index of the sample the last step drew, −1 for full-batch methods",
  }],
  [/^x\d+$/, {
    type: "number",
    unit: "1",
    description: "parameter coordinate x_i (older tables; now in params)",
  }],
  [/^lambda_\d+$/, {
    type: "number",
    unit: "1",
    description: "i-th largest Hessian eigenvalue (Lanczos)",
  }],
  [/^lambda_m$/, {
    type: "number",
    unit: "1",
    description: "M-th largest Hessian eigenvalue (λ_M on the manifold)",
  }],
  [/^lanczos_converged$/, {
    type: "number",
    unit: "",
    description: "1 when Lanczos converged, else 0",
  }],
  [/^trace$/, { type: "number", unit: "1", description: "Hessian trace Tr(∇²L)" }],
  [/^trace_se$/, {
    type: "number",
    unit: "1",
    description: "standard error of the trace estimate (0 when exact)",
  }],
  [/^cos_align$/, { type: "number", unit: "1", description: "|cos(∇L, v1)|; NaN where ∇L = 0" }],
  [/^cos_align_sample_mean$/, {
    type: "number",
    unit: "1",
    description: "mean over samples k of |cos(∇L_k, v1(∇²L_k))|",
  }],
  [/^cos_align_sample_min$/, {
    type: "number",
    unit: "1",
    description: "minimum over samples k of |cos(∇L_k, v1(∇²L_k))|",
  }],
  [/^dist_to_manifold$/, {
    type: "number",
    unit: "1",
    description: "‖x − Φ(x)‖, Φ the limit of gradient flow; NaN when that flow did not converge",
  }],
  [/^phi_converged$/, {
    type: "number",
    unit: "",
    description: "1 when the gradient flow to Φ(x) converged, else 0",
  }],
  [/^r_max$/, { type: "number", unit: "1", description: "worst-direction sharpness at radius ρ" }],
  [/^r_asc$/, { type: "number", unit: "1", description: "ascent-direction sharpness at radius ρ" }],
  [/^r_avg$/, {
    type: "number",
    unit: "1",
    description: "average-direction sharpness at radius ρ",
  }],
  [/^r_avg_se$/, { type: "number", unit: "1", description: "standard error of r_avg" }],
  [/^phi_x_\d+$/, { type: "number", unit: "1", description: "coordinate i of Φ(x)" }],
  [/^phi_lambda_(1|2|m)_gram$/, {
    type: "number",
    unit: "1",
    description:
      "λ1, λ2 or λ_M at Φ(x) from the M×M Gram matrix c·JJᵀ of per-sample output gradients (exact on Γ)",
  }],
  [/^phi_trace_gram$/, {
    type: "number",
    unit: "1",
    description: "Tr ∇²L at Φ(x) from the Gram matrix c·JJᵀ (exact on Γ)",
  }],
  [/^phi_method$/, {
    type: "number",
    unit: "",
    description:
      "how Φ(x) was found: 1 explicit Dormand–Prince, 2 stiff exponential Rosenbrock, 3 Gauss–Newton projection",
  }],
  [/^phi_(.+)$/, {
    type: "number",
    unit: "1",
    description: "the same metric at Φ(x) on the manifold",
  }],
];

/** The meaning of a metric name, or undefined when unknown. */
export function metricDef(metric: string): Def | undefined {
  const m = /^spectral_(.+)$/.exec(metric);
  const name = m ? m[1] : metric;
  for (const [re, def] of METRICS) {
    if (!re.test(name)) continue;
    return m ? { ...def, description: `at the last analysed checkpoint: ${def.description}` } : def;
  }
  return undefined;
}

/**
 * The definition of a column; unknown columns get a type inferred from their values (integer
 * only for columns the codebook declares so: a float column may hold integral values).
 */
export function columnDef(name: string, values?: ArrayLike<unknown>): ColumnDef {
  const def = RUN[name] ?? COMMON[name] ?? metricDef(name);
  if (def) return { name, ...def };
  let type: ColumnType = "number";
  if (values) {
    const kinds = new Set<string>();
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v !== null && v !== undefined) kinds.add(typeof v);
    }
    if (kinds.size === 1 && kinds.has("boolean")) type = "boolean";
    else if (kinds.size > 0 && !(kinds.size === 1 && kinds.has("number"))) type = "string";
  }
  return { name, type, unit: "", description: "" };
}

/** Every known metric of some names, with meanings (for `schema.json`). */
export function metricsCodebook(names: Iterable<string>): Record<string, Def> {
  const out: Record<string, Def> = {};
  for (const n of [...new Set(names)].sort()) {
    const def = metricDef(n);
    if (def) out[n] = def;
  }
  return out;
}
