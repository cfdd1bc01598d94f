/**
 * Quantities along training, one panel per quantity (spectra, alignment and training curves): the
 * x axis is τ when every run's clock runs, else the step (symlog); each panel has its own y domain,
 * computed from the runs that did not diverge (a diverged run is clamped to the panel and marked ×).
 * @module
 */
import { endpoints, fmt, mean, metricsOf, type Row, series, type SeriesPoint } from "../tables.ts";
import {
  byOptimizer,
  extent,
  grid,
  groupBy,
  HEIGHT,
  linearDomain,
  logDomain,
  type RunStyle,
  stepAxis,
  WIDTH,
} from "./style.ts";
import type { VegaLiteSpec } from "../render.ts";

/** A quantity plotted in a panel: display label and the first available metric. */
export interface Quantity {
  /** Panel title. */
  readonly label: string;
  /** Metrics to try, first present wins. */
  readonly metrics: readonly string[];
  /** Log y axis (losses, norms, errors). */
  readonly log?: boolean;
  /** Fixed y domain (e.g. [0, 1] for cosines). */
  readonly domain?: readonly [number, number];
}

/** One point of a quantity. */
export type QuantityPoint = SeriesPoint & { readonly quantity: string; readonly metric: string };

/** The points of the first available metric per quantity, and which metric each used. */
export function quantityRows(rows: readonly Row[], quantities: readonly Quantity[]) {
  const present = new Set(metricsOf(rows));
  const out: QuantityPoint[] = [];
  const used: (Quantity & { metric: string })[] = [];
  for (const q of quantities) {
    for (const metric of q.metrics) {
      if (!present.has(metric)) continue;
      const points = series(rows, metric);
      if (points.length === 0) continue;
      used.push({ ...q, metric });
      for (const p of points) out.push({ ...p, quantity: q.label, metric });
      break;
    }
  }
  return { rows: out, used };
}

/** The x axis of a time plot: τ when every run's clock runs (ρ > 0), else the step count. */
export function timeAxis(points: readonly SeriesPoint[]): Record<string, unknown> {
  const ticking = groupBy(points.filter((p) => p.step > 0), (p) => p.run);
  const allTick = ticking.size > 0 &&
    [...ticking.values()].every((ps) => ps.some((p) => p.tau > 0));
  if (allTick) {
    const [, hi] = extent(points.map((p) => p.tau));
    return {
      field: "tau",
      type: "quantitative",
      title: "τ = ηρ²t",
      scale: { domain: [0, hi], nice: true },
    };
  }
  return stepAxis(extent(points.map((p) => p.step))[1]);
}

/** Options of {@linkcode timePanels}. */
export interface TimePanelOptions {
  /** Runs that diverged: excluded from the domains, clamped and marked. */
  readonly diverged?: ReadonlySet<string>;
  /** Always the (symlog) step axis, even when every run's τ clock runs. */
  readonly steps?: boolean;
}

/**
 * Panels of quantities along training, or with one checkpoint per run a dot per run. Rows must be
 * the drawn runs only; `style` gives their colour and dash.
 */
export function timePanels(
  title: string,
  rows: readonly QuantityPoint[],
  used: readonly Quantity[],
  style: RunStyle,
  options: TimePanelOptions = {},
): VegaLiteSpec {
  const diverged = options.diverged ?? new Set<string>();
  const drawn = rows.filter((r) => style.drawn.has(r.run)).map((r) => ({
    ...r,
    ...style.fields(r.run),
  }));
  const perRun = groupBy(drawn, (r) => `${r.quantity}\u0000${r.run}`);
  let longest = 0;
  for (const g of perRun.values()) longest = Math.max(longest, g.length);
  const single = longest <= 1;
  const x = single
    ? { field: "series", type: "nominal", title: null, axis: { labelAngle: -40, labelLimit: 90 } }
    : options.steps
    ? stepAxis(extent(drawn.map((p) => p.step))[1])
    : timeAxis(drawn);
  const panels = used.map((q) => {
    const raw = drawn.filter((r) => r.quantity === q.label);
    const finite = raw.filter((r) => !diverged.has(r.run)).map((r) => r.value);
    const domain = q.domain ??
      (q.log ? logDomain(finite.length ? finite : raw.map((r) => r.value)) : linearDomain(
        finite.length ? finite : raw.map((r) => r.value),
      ));
    // On a log axis values below the domain (0, or under FLOOR × the largest) sit on its floor.
    const floor = q.log && domain ? domain[0] : -Infinity;
    const data = q.log ? raw.map((r) => r.value < floor ? { ...r, value: floor } : r) : raw;
    const y = {
      field: "value",
      type: "quantitative",
      title: null,
      scale: {
        type: q.log ? "log" : "linear",
        domain,
        clamp: true,
        ...(q.log ? {} : { zero: false }),
      },
      axis: { format: "~g", tickCount: 5 },
    };
    const encoding: Record<string, unknown> = {
      x,
      y,
      color: style.color,
      ...(single ? (style.shape ? { shape: style.shape } : {}) : {
        ...(style.dash ? { strokeDash: style.dash } : {}),
        detail: { field: "run" },
        order: { field: "step" },
      }),
    };
    const ends = [...endpoints(data.filter((r) => diverged.has(r.run))).values()].map(([, e]) => e);
    return {
      title: q.log ? `${q.label} (log)` : q.label,
      width: WIDTH,
      height: HEIGHT,
      layer: [
        {
          data: { values: data },
          mark: single
            ? { type: "point", filled: true, size: 50 }
            : { type: "line", strokeWidth: 1.3, point: longest <= 30 ? { size: 14 } : false },
          encoding,
        },
        ...(ends.length && !single
          ? [{
            data: { values: ends.map((e) => ({ ...e, ...style.fields(e.run) })) },
            mark: { type: "point", shape: "cross", size: 90, filled: true, color: "black" },
            encoding: { x, y },
          }]
          : []),
      ],
    };
  });
  return grid(title, panels);
}

/** Per optimizer, "label first → last" of each quantity (means over that optimizer's runs). */
export function firstLast(rows: readonly QuantityPoint[], labels: readonly string[]): string[] {
  return byOptimizer(rows).map(([o, ps]) => {
    const parts = labels.flatMap((label) => {
      const ends = [...endpoints(ps.filter((p) => p.quantity === label)).values()];
      if (ends.length === 0) return [];
      const a = mean(ends.map((e) => e[0].value)), b = mean(ends.map((e) => e[1].value));
      return [
        ends.every((e) => e[0] === e[1]) ? `${label} ${fmt(b)}` : `${label} ${fmt(a)} → ${fmt(b)}`,
      ];
    });
    const n = new Set(ps.map((p) => p.run)).size;
    return `${o} ${parts.join(", ")}${n > 1 ? ` (mean of ${n} runs)` : ""}`;
  });
}
