/**
 * From declared claims and measured data to claims.csv rows: validates each claim, runs its
 * evaluator, and computes the verdict from the worst case. Nothing here is typed by hand: a claim
 * whose data are missing, NaN or diverged is `inconclusive` with the reason in `note`.
 * @module
 */
import { checkRequirements, parseRequirements } from "./requires.ts";
import { finalValue, rateSlope, ratioToBaseline, relativeChange, slope } from "./generic.ts";
import { pairedSign } from "./paired.ts";
import { phase1Length } from "./phase.ts";
import { windowSign } from "./window.ts";
import {
  maxSharpness,
  samDistance,
  samLimitNormClaim,
  sharpnessOnManifold,
  sharpnessRatio,
  usamStability,
} from "./sharpness.ts";
import {
  toyEndpoint,
  toyEndpointSlope,
  toyFlowError,
  toyFlowSlope,
  toyGdStays,
  toySharpnessFlow,
} from "./toy.ts";
import type { Dataset } from "../problems/types.ts";
import {
  type ClaimCase,
  type ClaimData,
  type ClaimKind,
  type ClaimRow,
  type ClaimSpec,
  type Compare,
  type Evaluator,
  Inconclusive,
} from "./types.ts";

/** Every evaluator, by the name a claim's `metric` gives. */
export const CLAIM_EVALUATORS: Readonly<Record<string, Evaluator>> = {
  final_value: finalValue,
  relative_change: relativeChange,
  ratio_to_baseline: ratioToBaseline,
  slope,
  rate_slope: rateSlope,
  paired_sign: pairedSign,
  phase1_length: phase1Length,
  window_sign: windowSign,
  sam_limit_norm: samLimitNormClaim,
  sam_distance: samDistance,
  max_sharpness: maxSharpness,
  sharpness_on_manifold: sharpnessOnManifold,
  sharpness_ratio: sharpnessRatio,
  usam_stability: usamStability,
  toy_endpoint: toyEndpoint,
  toy_flow_error: toyFlowError,
  toy_flow_slope: toyFlowSlope,
  toy_gd_stays: toyGdStays,
  toy_endpoint_slope: toyEndpointSlope,
  toy_sharpness_flow: toySharpnessFlow,
};

const COMPARES: readonly Compare[] = ["abs", "rel", "at_most", "at_least"];
const KINDS: readonly ClaimKind[] = ["prediction", "sanity", "measurement"];
const CLAIM_KEYS = [
  "id",
  "kind",
  "source",
  "statement",
  "metric",
  "args",
  "predicted",
  "tolerance",
  "compare",
  "requires",
];

/**
 * Validates the `claims:` list of an experiment; throws a TypeError naming the claim and field.
 */
export function parseClaims(raw: unknown, where = "claims"): ClaimSpec[] {
  if (!Array.isArray(raw)) throw new TypeError(`${where} must be a list`);
  const seen = new Set<string>();
  return raw.map((c, i) => {
    const at = `${where}[${i}]`;
    if (typeof c !== "object" || c === null || Array.isArray(c)) {
      throw new TypeError(`${at} must be a mapping`);
    }
    const o = c as Record<string, unknown>;
    const bad = Object.keys(o).find((k) => !CLAIM_KEYS.includes(k));
    if (bad) throw new TypeError(`${at}.${bad} is not a claim field (${CLAIM_KEYS.join(", ")})`);
    for (const k of ["id", "source", "statement", "metric"]) {
      if (typeof o[k] !== "string" || o[k] === "") {
        throw new TypeError(`${at}.${k} must be a non-empty string`);
      }
    }
    if (!KINDS.includes(o.kind as ClaimKind)) {
      throw new TypeError(`${at}.kind must be one of ${KINDS.join(", ")}`);
    }
    const id = o.id as string;
    if (seen.has(id)) throw new TypeError(`${at}.id ${JSON.stringify(id)} is used twice`);
    seen.add(id);
    if (!(o.metric as string in CLAIM_EVALUATORS)) {
      throw new TypeError(
        `${at}.metric ${JSON.stringify(o.metric)} is not an evaluator (${
          Object.keys(CLAIM_EVALUATORS).join(", ")
        })`,
      );
    }
    if (typeof o.tolerance !== "number" || !(o.tolerance >= 0)) {
      throw new TypeError(`${at}.tolerance must be a number ≥ 0`);
    }
    if (o.predicted !== undefined && typeof o.predicted !== "number") {
      throw new TypeError(`${at}.predicted must be a number`);
    }
    const compare = (o.compare ?? "abs") as Compare;
    if (!COMPARES.includes(compare)) {
      throw new TypeError(`${at}.compare must be one of ${COMPARES.join(", ")}`);
    }
    const args = o.args ?? {};
    if (typeof args !== "object" || args === null || Array.isArray(args)) {
      throw new TypeError(`${at}.args must be a mapping`);
    }
    const requires = parseRequirements(o.requires, `${at}.requires`);
    return {
      id,
      kind: o.kind as ClaimKind,
      requires,
      source: o.source as string,
      statement: o.statement as string,
      metric: o.metric as string,
      args: args as Record<string, unknown>,
      predicted: o.predicted as number | undefined,
      tolerance: o.tolerance,
      compare,
    };
  });
}

/**
 * How far a case is from failing, in units of the tolerance: ≤ 1 passes, larger is worse. The excess
 * is |m − p| for abs/rel, m − p for at_most and p − m for at_least; with a zero tolerance a case
 * passes iff its excess is ≤ 0 (mapped monotonically into (0, 1] so the worst passing case is found).
 */
export function badness(c: ClaimCase, compare: Compare, tolerance: number): number {
  const { measured: m, predicted: p } = c;
  const allowance = compare === "rel" ? tolerance * Math.abs(p) : tolerance;
  const excess = compare === "at_most" ? m - p : compare === "at_least" ? p - m : Math.abs(m - p);
  if (allowance > 0) return excess / allowance;
  return excess > 0 ? Infinity : 1 / (1 - excess);
}

/**
 * Evaluates one claim into its claims.csv row. Its `requires` conditions are checked first; when one
 * fails the verdict is `inconclusive` ("assumption: …") and the note still shows what the evaluator
 * measured, so the numbers are reported even where the theorem does not apply.
 */
export function evaluateClaim(spec: ClaimSpec, data: ClaimData): ClaimRow {
  const row = judge(spec, data);
  const check = checkRequirements(spec.requires, data, spec.args);
  if (check.failure === "") return { ...row, requires: check.text };
  return {
    ...row,
    requires: check.text,
    verdict: "inconclusive",
    note: `assumption: ${check.failure}; measured: ${row.verdict}, ${row.note}`,
  };
}

/** The verdict of a claim from its evaluator alone. */
function judge(spec: ClaimSpec, data: ClaimData): ClaimRow {
  const row = (
    fields: Pick<ClaimRow, "predicted" | "measured" | "spread" | "verdict" | "note">,
  ): ClaimRow => ({
    claim_id: spec.id,
    kind: spec.kind,
    requires: "",
    source: spec.source,
    statement: spec.statement,
    metric: spec.metric,
    predicted: fields.predicted,
    measured: fields.measured,
    spread: fields.spread,
    tolerance: spec.tolerance,
    compare: spec.compare,
    verdict: fields.verdict,
    note: fields.note,
  });
  let cases: ClaimCase[];
  try {
    cases = CLAIM_EVALUATORS[spec.metric](data, spec.args, spec.predicted);
  } catch (e) {
    if (!(e instanceof Inconclusive)) throw e;
    return row({
      predicted: spec.predicted ?? NaN,
      measured: NaN,
      spread: NaN,
      verdict: "inconclusive",
      note: e.message,
    });
  }
  const nonFinite = cases.find((c) =>
    !Number.isFinite(c.measured) || !Number.isFinite(c.predicted)
  );
  if (cases.length === 0 || nonFinite) {
    return row({
      predicted: nonFinite?.predicted ?? NaN,
      measured: nonFinite?.measured ?? NaN,
      spread: NaN,
      verdict: "inconclusive",
      note: nonFinite ? `${nonFinite.label}: non-finite value` : "no cases",
    });
  }
  if (spec.kind === "measurement") {
    // Reported, not judged: the mean over the cases, and every case's value.
    const values = cases.map((c) => c.measured);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
    return row({
      predicted: Number.NaN,
      measured: mean,
      spread: values.length > 1 ? sd : Number.NaN,
      verdict: "reported",
      note: `mean of ${values.length}; ${
        cases.map((c) => `${c.label} ${c.measured.toPrecision(4)}`).join("; ")
      }`,
    });
  }
  const scored = cases.map((c) => ({ c, b: badness(c, spec.compare, spec.tolerance) }));
  const worst = scored.reduce((w, s) => s.b > w.b ? s : w);
  const note = cases.length === 1
    ? worst.c.label
    : `worst of ${cases.length}: ${worst.c.label}; all: ${
      cases.map((c) => `${c.label} ${c.measured.toPrecision(4)}/${c.predicted.toPrecision(4)}`)
        .join("; ")
    }`;
  return row({
    predicted: worst.c.predicted,
    measured: worst.c.measured,
    spread: worst.c.spread ?? NaN,
    verdict: worst.b <= 1 ? "reproduced" : "not reproduced",
    note,
  });
}

/** Evaluates every claim of an experiment, in declaration order. */
export function evaluateClaims(specs: readonly ClaimSpec[], data: ClaimData): ClaimRow[] {
  return specs.map((s) => evaluateClaim(s, data));
}

/**
 * Checks each claim's evaluator arguments against the data set before anything runs: the evaluator
 * is run on tables without runs, so a malformed argument (a wrong type, an unknown target, a data
 * set the evaluator does not apply to) is a TypeError naming the claim, while the missing data is
 * only the expected "no run matches".
 */
export function checkClaimArgs(specs: readonly ClaimSpec[], dataset: Dataset): void {
  const empty: ClaimData = { dataset, runs: [], trajectory: [], spectra: [], window: [] };
  specs.forEach((spec, i) => {
    try {
      CLAIM_EVALUATORS[spec.metric](empty, spec.args, spec.predicted);
    } catch (e) {
      if (e instanceof Inconclusive) return;
      throw new TypeError(
        `claims[${i}] (${spec.id}): ${spec.metric}: ${e instanceof Error ? e.message : e}`,
      );
    }
  });
}
