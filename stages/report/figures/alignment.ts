/**
 * |cos(∇L, v1)| and the per-sample alignment along training.
 * @module
 */
import type { ExperimentTables } from "../tables.ts";
import { claimsSentence, divergedRuns, optimizersRun, runsIn } from "./context.ts";
import type { Figure } from "./figure.ts";
import { drawnNote, runStyle } from "./style.ts";
import { firstLast, type Quantity, quantityRows, timePanels } from "./time_series.ts";

const QUANTITIES: Quantity[] = [
  { label: "|cos(∇L, v1)|", metrics: ["cos_align"], domain: [0, 1] },
  { label: "mean_k |cos(∇L_k, v1(∇²L_k))|", metrics: ["cos_align_sample_mean"], domain: [0, 1] },
];

/** Per optimizer, what the theory predicts for the alignment. */
const ALIGNMENT_THEORY: Readonly<Record<string, string>> = {
  sam: "SAM's |cos(∇L, v1)| → 1 (the gradient aligns with the top eigenvector, angle O(ρ), §3)",
  "1sam": "1-SAM's per-sample |cos(∇L_k, v1(∇²L_k))| → 1 when each ∇²L_k has rank 1 (Thm 5.4)",
  max: "GD on L^Max aligns like SAM",
};

/** Whether every per-sample Hessian of a two-quadratics data set has rank 1 (Ex. 5.8's contrast). */
function perSampleRankOne(exp: ExperimentTables): boolean {
  const ranks = ["eigenvalues1", "eigenvalues2"].map((k) => {
    const eig = exp.dataset?.[k];
    return Array.isArray(eig) ? eig.filter((v) => Number(v) !== 0).length : NaN;
  });
  return ranks.every((r) => r === 1);
}

/** The alignment figure, when the spectra table has an alignment cosine. */
export function alignmentFigure(exp: ExperimentTables): Figure | undefined {
  const { rows, used } = quantityRows(exp.spectra, QUANTITIES);
  if (rows.length === 0) return undefined;
  const labels = used.map((u) => u.label);
  const style = runStyle(runsIn(exp, rows));
  const rank1 = perSampleRankOne(exp);
  const theory = [...optimizersRun(exp)].flatMap((o) => {
    const t = ALIGNMENT_THEORY[o];
    if (!t) return [];
    if (o === "1sam" && exp.dataset?.kind === "two-quadratics" && !rank1) {
      return [
        "1-SAM's per-sample alignment has no reason to reach 1 on full-rank quadratics (Ex. 5.8)",
      ];
    }
    return [t];
  });
  return {
    name: `${exp.id}-alignment`,
    title: `${exp.id}: gradient / top-eigenvector alignment`,
    caption: `Theory for the optimizers run here: ${
      theory.length ? theory.join("; ") : "no alignment prediction"
    }. Measured: ${firstLast(rows, labels).join("; ")}.${claimsSentence(exp, /align|cos/i)}${
      drawnNote(style)
    }`,
    spec: timePanels(`${exp.id}: alignment cosines`, rows, used, style, {
      diverged: divergedRuns(exp),
    }),
  };
}
