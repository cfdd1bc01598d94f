/**
 * Assumption checks a claim declares in `requires:` (docs/theory.md §9). Each condition is
 * evaluated from the same tables as the claim, on the runs its `runs` argument names, before its verdict: a
 * failed condition makes the verdict `inconclusive`, never `reproduced` or `not reproduced`.
 *
 * Conditions (all optional, any combination):
 * - `eigengap: g` — (λ1 − λ2)/λ1 ≥ g (metric `phi_eigengap`, else `eigengap`), Assumption 4.4;
 * - `rank_ratio: r` — λ_M/|λ_{M+1}| ≥ r at Φ (metric `phi_rank_ratio`): rank M on Γ;
 * - `rho_over_lr: b` — ρ/η ≤ b (Theorem 4.5's ρ ≪ η);
 * - `lr_log_inv_rho: b` — η ln(1/ρ) ≤ b (Theorem 4.5's η ln(1/ρ) small);
 * - `lr_lambda1: b` — η λ1 ≤ b (λ1 = `lambda_1` at the checkpoint; Theorem 4.8's ηλ1 < 1);
 * - `phase2: f` — ‖x − Φ(x)‖ ≤ f · ηρλ1/(2 − ηλ1) with λ1 = λ1(Φ(x)) (Phase II reached);
 * - `phi_converged: true` — the gradient flow to Φ converged at every analysed checkpoint.
 * `at` (first | last | fraction, default last) picks the checkpoint of the point-wise conditions.
 * @module
 */
import { samLimitNorm } from "../theory/quadratic.ts";
import { type At, atArg, matchesRun, series, valueAt } from "./data.ts";
import type { ClaimData, RunRecord } from "./types.ts";

/** The declared conditions of one claim. */
export interface Requirements {
  readonly eigengap?: number;
  readonly rank_ratio?: number;
  readonly rho_over_lr?: number;
  readonly lr_log_inv_rho?: number;
  readonly lr_lambda1?: number;
  readonly phase2?: number;
  readonly phi_converged?: boolean;
  readonly at?: At;
}

/** The outcome of the checks: their text for the `requires` column, and the first failure. */
export interface RequirementCheck {
  /** Every condition with its worst measured value, e.g. "eigengap ≥ 0.05: min 0.21 (sam-s0)". */
  readonly text: string;
  /** "" when all hold, else the reason, e.g. "eigengap 0.004 < 0.05 (sam-s1)". */
  readonly failure: string;
}

const KEYS = [
  "eigengap",
  "rank_ratio",
  "rho_over_lr",
  "lr_log_inv_rho",
  "lr_lambda1",
  "phase2",
  "phi_converged",
  "at",
] as const;

/** Validates a claim's `requires:` mapping; throws a TypeError naming the field. */
export function parseRequirements(raw: unknown, where: string): Requirements | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new TypeError(`${where} must be a mapping (${KEYS.join(", ")})`);
  }
  const o = raw as Record<string, unknown>;
  const bad = Object.keys(o).find((k) => !(KEYS as readonly string[]).includes(k));
  if (bad) throw new TypeError(`${where}.${bad} is not a condition (${KEYS.join(", ")})`);
  const out: Record<string, unknown> = {};
  for (const k of KEYS) {
    if (o[k] === undefined) continue;
    if (k === "phi_converged") {
      if (o[k] !== true) throw new TypeError(`${where}.phi_converged must be true`);
      out[k] = true;
    } else if (k === "at") {
      try {
        out[k] = atArg(o[k]);
      } catch {
        throw new TypeError(`${where}.at must be "first", "last" or a fraction in [0, 1]`);
      }
    } else {
      const v = o[k];
      if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) {
        throw new TypeError(`${where}.${k} must be a finite number > 0`);
      }
      out[k] = v;
    }
  }
  return out as Requirements;
}

/**
 * The runs a claim makes its statement about: those its `runs` argument names (diverged ones too).
 * A baseline is the other method of a comparison; the theorem's assumptions concern the runs.
 */
function claimRuns(data: ClaimData, args: Readonly<Record<string, unknown>>): RunRecord[] {
  const p = args.runs;
  const patterns = p === undefined ? [] : Array.isArray(p) ? p.map(String) : [String(p)];
  return data.runs.filter((r) => patterns.some((p) => matchesRun(r.run, p)));
}

const fmt = (v: number) => Number.isFinite(v) ? Number(v.toPrecision(3)).toString() : String(v);

/** A point metric of a run (spectra first, then trajectory); NaN when absent or not finite. */
function pointValue(data: ClaimData, run: string, metrics: readonly string[], at: At): number {
  for (const m of metrics) {
    for (const rows of [data.spectra, data.trajectory]) {
      if (series(rows, run, m).length === 0) continue;
      try {
        return valueAt(rows, run, m, at).value;
      } catch {
        return NaN;
      }
    }
  }
  return NaN;
}

interface Condition {
  readonly label: string;
  /** Per-run measured value (NaN = could not be measured, which fails the condition). */
  readonly value: (r: RunRecord) => number;
  /** Whether a measured value satisfies the condition. */
  readonly holds: (v: number) => boolean;
  /** "min" when the worst case is the smallest value, "max" when the largest. */
  readonly worst: "min" | "max";
  readonly failText: (v: number) => string;
}

function conditions(req: Requirements, data: ClaimData): Condition[] {
  const at = req.at ?? "last";
  const out: Condition[] = [];
  const atLeast = (label: string, bound: number, value: (r: RunRecord) => number) =>
    out.push({
      label: `${label} ≥ ${bound}`,
      value,
      holds: (v) => v >= bound,
      worst: "min",
      failText: (v) => `${label} ${fmt(v)} < ${bound}`,
    });
  const atMost = (label: string, bound: number, value: (r: RunRecord) => number) =>
    out.push({
      label: `${label} ≤ ${bound}`,
      value,
      holds: (v) => v <= bound,
      worst: "max",
      failText: (v) => `${label} ${fmt(v)} > ${bound}`,
    });
  if (req.eigengap !== undefined) {
    atLeast(
      "eigengap",
      req.eigengap,
      (r) => pointValue(data, r.run, ["phi_eigengap", "eigengap"], at),
    );
  }
  if (req.rank_ratio !== undefined) {
    atLeast(
      "λ_M/λ_{M+1}",
      req.rank_ratio,
      (r) => pointValue(data, r.run, ["phi_rank_ratio"], at),
    );
  }
  if (req.rho_over_lr !== undefined) atMost("ρ/η", req.rho_over_lr, (r) => r.rho / r.lr);
  if (req.lr_log_inv_rho !== undefined) {
    atMost("η ln(1/ρ)", req.lr_log_inv_rho, (r) => r.lr * Math.log(1 / r.rho));
  }
  if (req.lr_lambda1 !== undefined) {
    atMost("ηλ1", req.lr_lambda1, (r) => r.lr * pointValue(data, r.run, ["lambda_1"], at));
  }
  if (req.phase2 !== undefined) {
    atMost("‖x − Φ‖ / (ηρλ1/(2 − ηλ1))", req.phase2, (r) => {
      const lambda1 = pointValue(data, r.run, ["phi_lambda_1"], at);
      return pointValue(data, r.run, ["dist_to_manifold"], at) /
        samLimitNorm(r.lr, r.rho, lambda1);
    });
  }
  if (req.phi_converged) {
    out.push({
      label: "Φ converged",
      value: (r) => {
        const s = series(data.spectra, r.run, "phi_converged");
        return s.length > 0 && s.every((x) => x.value === 1) ? 1 : 0;
      },
      holds: (v) => v === 1,
      worst: "min",
      failText: () => "the flow to Φ did not converge",
    });
  }
  return out;
}

/**
 * Evaluates the declared conditions on the claim's runs (its `runs` pattern).
 * A value that cannot be measured (absent, NaN) fails its condition.
 */
export function checkRequirements(
  req: Requirements | undefined,
  data: ClaimData,
  args: Readonly<Record<string, unknown>>,
): RequirementCheck {
  if (req === undefined) return { text: "", failure: "" };
  const runs = claimRuns(data, args);
  const texts: string[] = [];
  let failure = "";
  for (const c of conditions(req, data)) {
    if (runs.length === 0) {
      texts.push(`${c.label}: no runs`);
      failure ||= `${c.label}: no runs`;
      continue;
    }
    const values = runs.map((r) => ({ run: r.run, v: c.value(r) }));
    const bad = values.find((x) => !Number.isFinite(x.v));
    const worst = bad ??
      values.reduce((w, x) => (c.worst === "min" ? x.v < w.v : x.v > w.v) ? x : w);
    texts.push(`${c.label}: ${c.worst} ${fmt(worst.v)} (${worst.run})`);
    if (!failure && (bad || !c.holds(worst.v))) {
      failure = bad
        ? `${c.label}: not measured for ${bad.run}`
        : `${c.failText(worst.v)} (${worst.run})`;
    }
  }
  return { text: texts.join("; "), failure };
}
