/**
 * The one-line verdict count of a set of claims. Only predictions count toward the headline;
 * sanity checks (identities that test the code, not the theory) and measurements (quantities the
 * paper predicts nothing of) are counted apart, e.g. "31 predictions: 27 reproduced, 2 not
 * reproduced, 2 inconclusive; 14 sanity checks passed (0 failed); 2 measurements reported".
 * @module
 */

/** What the headline reads of a claim row. */
export interface HeadlineRow {
  /** `prediction`, `sanity` or `measurement`; rows without a kind count as predictions. */
  readonly kind?: unknown;
  /** `reproduced`, `not reproduced` or `inconclusive`. */
  readonly verdict?: unknown;
}

const VERDICTS = ["reproduced", "not reproduced", "inconclusive"] as const;

/** Whether a row is a sanity check. */
export function isSanity(row: HeadlineRow): boolean {
  return String(row.kind ?? "") === "sanity";
}

/** Whether a row is a measurement (reported, never judged). */
export function isMeasurement(row: HeadlineRow): boolean {
  return String(row.kind ?? "") === "measurement";
}

/** The headline of some claim rows (no trailing period). */
export function headline(rows: readonly HeadlineRow[]): string {
  const predictions = rows.filter((r) => !isSanity(r) && !isMeasurement(r));
  const measurements = rows.filter(isMeasurement);
  const sanity = rows.filter(isSanity);
  const count = (list: readonly HeadlineRow[], v: string) =>
    list.filter((r) => String(r.verdict ?? "") === v).length;
  const others = predictions.length - VERDICTS.reduce((s, v) => s + count(predictions, v), 0);
  const parts = VERDICTS.map((v) => `${count(predictions, v)} ${v}`);
  if (others > 0) parts.push(`${others} without a verdict`);
  let line = `${predictions.length} prediction${predictions.length === 1 ? "" : "s"}: ${
    parts.join(", ")
  }`;
  if (sanity.length > 0) {
    const passed = count(sanity, "reproduced"), failed = count(sanity, "not reproduced");
    const open = sanity.length - passed - failed;
    const n = `${sanity.length} sanity check${sanity.length === 1 ? "" : "s"}`;
    line += passed === sanity.length
      ? `; ${n} passed (0 failed)`
      : `; ${n}: ${passed} passed, ${failed} failed${open ? `, ${open} inconclusive` : ""}`;
  }
  if (measurements.length > 0) {
    line += `; ${measurements.length} measurement${measurements.length === 1 ? "" : "s"} reported`;
  }
  return line;
}
