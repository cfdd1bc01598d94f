/**
 * The report's figures: vega-lite specs built from one experiment's tables, each with a caption
 * stating what the theory predicts for that experiment and what its tables measured (numbers
 * computed from the rows, never typed). A figure is produced only when its data are present, so
 * unknown experiments still get the generic ones (training curves, spectra, alignment). One module
 * per figure kind under `figures/`.
 * @module
 */
import type { ExperimentTables } from "./tables.ts";
import { alignmentFigure } from "./figures/alignment.ts";
import { ascEtaFigure } from "./figures/asc_eta.ts";
import type { Figure } from "./figures/figure.ts";
import { normFigure } from "./figures/norm.ts";
import { planeFigure } from "./figures/plane.ts";
import { rhoFigure } from "./figures/rho.ts";
import { spectraFigure } from "./figures/spectra.ts";
import { trackingFigure } from "./figures/tracking.ts";
import { trajectoryFigure } from "./figures/trajectory.ts";

export type { Figure };

/** Every figure of one experiment, in report order. */
export function experimentFigures(exp: ExperimentTables): Figure[] {
  return [
    planeFigure(exp),
    spectraFigure(exp),
    alignmentFigure(exp),
    normFigure(exp),
    trackingFigure(exp),
    ascEtaFigure(exp),
    rhoFigure(exp),
    trajectoryFigure(exp),
  ].filter((f): f is Figure => f !== undefined);
}
