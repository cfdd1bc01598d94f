/**
 * Builders of synthetic claim data for the evaluator tests: runs, tidy rows, claim specs.
 * @module
 */
import { makeDataset } from "../problems/registry.ts";
import type { Dataset } from "../problems/types.ts";
import type { ClaimData, ClaimSpec, MeasureRow, RunRecord, WindowRow } from "./types.ts";

/** A 2-D quadratic, eigenvalues 4 and 2. */
export const quad = makeDataset({ kind: "quadratic", eigenvalues: [4, 2], rotate: false }, {
  seed: 0,
});
/** The 4-D toy, family paper. */
export const toy = makeDataset({ kind: "toy4d", family: "paper" }, { seed: 0 });

/** A run record (SAM, η = 0.1, ρ = 0.05, seed 0 unless overridden). */
export function run(name: string, over: Partial<RunRecord> = {}): RunRecord {
  return { run: name, optimizer: "sam", lr: 0.1, rho: 0.05, seed: 0, diverged: "", ...over };
}

/** Tidy rows for a run: metric → [[step, value], …]; τ = step/100. */
export function rows(runName: string, metrics: Record<string, [number, number][]>): MeasureRow[] {
  return Object.entries(metrics).flatMap(([metric, pts]) =>
    pts.map(([step, value]) => ({ run: runName, step, tau: step / 100, metric, value }))
  );
}

/** Claim data from its parts. */
export function data(
  dataset: Dataset,
  runs: RunRecord[],
  trajectory: MeasureRow[],
  spectra: MeasureRow[] = [],
  window: WindowRow[] = [],
): ClaimData {
  return { dataset, runs, trajectory, spectra, window };
}

/** A prediction spec with defaults for the fields a test does not set. */
export function claim(over: Partial<ClaimSpec> & Pick<ClaimSpec, "metric" | "args">): ClaimSpec {
  return {
    id: "c",
    kind: "prediction",
    source: "s",
    statement: "st",
    tolerance: 0,
    compare: "abs",
    ...over,
  };
}
