/**
 * What a figure's caption and encoding need to know about its experiment besides one series: the
 * runs (with batch), which diverged, the data set's kind, and the experiment's own claims that the
 * figure shows, so a caption states this experiment's predictions and measured values rather than
 * a template per figure kind.
 * @module
 */
import { type ExperimentTables, fmt, num, type Row, runsOf } from "../tables.ts";
import type { StyledRun } from "./style.ts";

/** The runs of an experiment in table order, with batch size and x0 when the summary has them. */
export function experimentRuns(exp: ExperimentTables): StyledRun[] {
  const byRun = new Map<string, Row>();
  for (const r of exp.summary) byRun.set(String(r.run), r);
  return runsOf(exp.summary, exp.trajectory, exp.spectra).map((r) => {
    const s = byRun.get(r.run);
    return {
      ...r,
      batch: num(s?.batch),
      ...(typeof s?.x0 === "string" ? { x0: s.x0 } : {}),
    };
  });
}

/** The experiment's runs that appear in some rows (a set lookup: sweeps have 10 000 runs). */
export function runsIn(exp: ExperimentTables, rows: Iterable<{ run: string }>): StyledRun[] {
  const present = new Set<string>();
  for (const r of rows) present.add(r.run);
  return experimentRuns(exp).filter((r) => present.has(r.run));
}

/** Runs whose summary row carries a divergence message. */
export function divergedRuns(exp: ExperimentTables): Set<string> {
  const out = new Set<string>();
  for (const r of exp.summary) {
    if (typeof r.diverged === "string" && r.diverged.trim() !== "") out.add(String(r.run));
  }
  return out;
}

/** The data set's kind, from the plan's dataset block (undefined when the plan gave none). */
export function datasetKind(exp: ExperimentTables): string | undefined {
  const k = exp.dataset?.kind;
  return typeof k === "string" ? k : undefined;
}

/** Whether the loss is quadratic (one quadratic or a sum of quadratics): its Hessian is constant. */
export function constantHessian(exp: ExperimentTables): boolean {
  const k = datasetKind(exp);
  return k === "quadratic" || k === "two-quadratics";
}

/** Distinct optimizers of the experiment's runs. */
export function optimizersRun(exp: ExperimentTables): Set<string> {
  return new Set(experimentRuns(exp).map((r) => r.optimizer));
}

/** The experiment's prediction claims (sanity checks excluded) that match a pattern. */
export function claimsMatching(exp: ExperimentTables, pattern: RegExp): Row[] {
  return exp.claims.filter((c) =>
    String(c.kind ?? "prediction") !== "sanity" &&
    pattern.test(`${c.claim_id ?? ""} ${c.metric ?? ""} ${c.statement ?? ""}`)
  );
}

/**
 * "This experiment's predictions shown here: <statement> (predicted P, measured M: verdict); …", or
 * "" when none of its claims concerns the figure.
 */
export function claimsSentence(exp: ExperimentTables, pattern: RegExp): string {
  const rows = claimsMatching(exp, pattern);
  if (rows.length === 0) return "";
  const parts = rows.map((c) => {
    const p = num(c.predicted), m = num(c.measured);
    const values = [
      Number.isFinite(p) ? `predicted ${fmt(p)}` : "",
      Number.isFinite(m) ? `measured ${fmt(m)}` : "",
    ].filter(Boolean).join(", ");
    const statement = String(c.statement ?? "").replace(/\s+/g, " ").replace(/[.\s]+$/, "");
    return `${c.claim_id}: ${statement} (${values ? `${values}: ` : ""}${
      c.verdict ?? "no verdict"
    })`;
  });
  return ` Claims of this experiment shown here — ${parts.join("; ")}.`;
}
