/**
 * The figure type every figure kind returns.
 * @module
 */
import type { VegaLiteSpec } from "../render.ts";

/** One figure of the report. */
export interface Figure {
  /** File stem, unique across the report: `<experiment>-<kind>`. */
  readonly name: string;
  /** Short title (the figure's heading). */
  readonly title: string;
  /** What the theory predicts for this experiment and what was measured there. */
  readonly caption: string;
  /** The vega-lite spec to render (data inlined). */
  readonly spec: VegaLiteSpec;
}
