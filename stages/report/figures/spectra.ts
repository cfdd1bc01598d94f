/**
 * λ1, λ_M and Tr along training (at Φ(x) when the spectra were taken on the manifold).
 * @module
 */
import type { ExperimentTables } from "../tables.ts";
import { claimsSentence, constantHessian, divergedRuns, optimizersRun, runsIn } from "./context.ts";
import type { Figure } from "./figure.ts";
import { drawnNote, runStyle } from "./style.ts";
import { firstLast, type Quantity, quantityRows, timePanels } from "./time_series.ts";

/** What the theory says each optimizer does to the spectrum near the manifold Γ. */
const SPECTRAL_THEORY: Readonly<Record<string, string>> = {
  sam: "SAM decreases λ1 (Thm 4.5)",
  "1sam": "1-SAM decreases Tr (Thm 5.4)",
  gd: "GD keeps the spectrum constant once converged",
  sgd: "SGD keeps it constant on interpolation problems",
  usam: "USAM does not drift along Γ",
  "asc-exact": "GD on L^Asc decreases λ_M (Fig. 1)",
  max: "GD on L^Max decreases λ1 (Thm 4.2)",
  avg: "average-direction GD decreases Tr (Thm 4.2)",
  "label-noise-sgd": "label-noise SGD decreases Tr on the slower η⁻² time scale",
  "minibatch-sam": "mini-batch SAM with 1 < b < M has no theorem (Ex. 5.8)",
};

const QUANTITIES: Quantity[] = [
  { label: "λ1", metrics: ["phi_lambda_1", "lambda_1"] },
  { label: "λ_M", metrics: ["phi_lambda_m", "lambda_m"] },
  { label: "Tr", metrics: ["phi_trace", "trace"] },
];

/** The spectrum figure, when the spectra table has λ1, λ_M or Tr. */
export function spectraFigure(exp: ExperimentTables): Figure | undefined {
  const { rows, used } = quantityRows(exp.spectra, QUANTITIES);
  if (rows.length === 0) return undefined;
  const labels = used.map((u) => u.label);
  const where = used.some((u) => u.metric.startsWith("phi_")) ? " at Φ(x)" : "";
  const style = runStyle(runsIn(exp, rows));
  const theory = constantHessian(exp)
    ? "The loss is quadratic, so its Hessian is constant: λ1, λ_M and Tr cannot change along " +
      "training (the panels check this; the paper's drift needs a curved manifold)."
    : `Theory for the optimizers run here: ${
      [...optimizersRun(exp)].map((o) => SPECTRAL_THEORY[o]).filter(Boolean).join("; ") ||
      "no prediction"
    }.`;
  return {
    name: `${exp.id}-spectra`,
    title: `${exp.id}: Hessian spectrum${where} along training`,
    caption: `${theory} Measured${where} (first → last checkpoint): ${
      firstLast(rows, labels).join("; ")
    }.${claimsSentence(exp, /lambda|trace|λ|\bTr\b|sharp/i)}${drawnNote(style)}`,
    spec: timePanels(`${exp.id}: ${labels.join(", ")}${where}`, rows, used, style, {
      diverged: divergedRuns(exp),
    }),
  };
}
