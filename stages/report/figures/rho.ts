/**
 * Final metrics against ρ when the runs sweep ρ (e.g. the diagonal net's test loss and Tr): one
 * panel per quantity, log axes for losses, optimizers that ignore ρ as dashed baselines.
 * @module
 */
import { type ExperimentTables, fmt, mean, num, type Row } from "../tables.ts";
import { claimsSentence, divergedRuns, optimizersRun, runsIn } from "./context.ts";
import type { Figure } from "./figure.ts";
import {
  byOptimizer,
  drawnNote,
  extent,
  grid,
  HEIGHT,
  linearDomain,
  logDomain,
  runStyle,
  WIDTH,
} from "./style.ts";

/** Optimizers whose update ignores ρ (it only sets their τ clock): baselines in ρ sweeps. */
const IGNORE_RHO = new Set(["gd", "sgd", "label-noise-sgd"]);

/** What a larger ρ should do, per optimizer run here. */
const RHO_THEORY: Readonly<Record<string, string>> = {
  sam: "SAM descends λ1 at rate ∝ ηρ² per step (Thm 4.5), so a larger ρ ends at a smaller λ1",
  "1sam": "1-SAM descends Tr at rate ∝ ηρ² per step (Thm 5.4), so a larger ρ ends at a smaller Tr",
  usam: "USAM does not drift along Γ",
  max: "GD on L^Max descends λ1 like SAM",
  avg: "average-direction GD descends Tr, slowly (rate ∝ ηρ²/D)",
};

/** The ρ figure, when at least two ρ values of an optimizer that uses ρ were run. */
export function rhoFigure(exp: ExperimentTables): Figure | undefined {
  const ignoresRho = (r: Row) => IGNORE_RHO.has(String(r.optimizer));
  const swept = exp.summary.filter((r) => num(r.rho) > 0 && !ignoresRho(r));
  if (new Set(swept.map((r) => num(r.rho))).size < 2) return undefined;
  const baselines = exp.summary.filter(ignoresRho);
  const columns = Object.keys(exp.summary[0] ?? {});
  const pick = (...names: string[]) => names.find((n) => columns.includes(n));
  const chosen: [string, string | undefined, boolean][] = [
    ["Tr", pick("spectral_phi_trace", "spectral_trace"), false],
    ["λ1", pick("spectral_phi_lambda_1", "spectral_lambda_1"), false],
    ...columns.filter((c) => /test/.test(c) && !/_se$/.test(c)).map((c) =>
      [c, c, true] as [string, string, boolean]
    ),
    ["1 − |cos(∇L, v1)|", pick("spectral_cos_align"), true],
    ["loss", pick("loss"), true],
  ];
  const diverged = divergedRuns(exp);
  const style = runStyle(
    runsIn(exp, exp.summary.map((s) => ({ run: String(s.run) }))),
    { omit: ["rho"] },
  );
  const tidy = (from: readonly Row[]) =>
    chosen.flatMap(([quantity, col]) =>
      col === undefined ? [] : from.map((r) => ({
        quantity,
        run: String(r.run),
        optimizer: String(r.optimizer),
        rho: num(r.rho),
        // |cos| rounds to 1 + 1e-16: 1 − |cos| below 0 is rounding, drawn on the log axis's floor.
        value: /cos/.test(col) ? Math.max(0, 1 - num(r[col])) : num(r[col]),
        diverged: diverged.has(String(r.run)),
        ...style.fields(String(r.run)),
      })).filter((r) => Number.isFinite(r.value) && style.drawn.has(r.run))
    );
  const rows = tidy(swept);
  if (rows.length === 0) return undefined;
  const base = tidy(baselines);
  const quantities = chosen.filter(([q]) => rows.some((r) => r.quantity === q));
  const [r0, r1] = extent(rows.map((r) => r.rho));
  const x = {
    field: "rho",
    type: "quantitative",
    title: "ρ",
    scale: { type: "log", domain: [r0 / 1.4, r1 * 1.4], nice: false },
    axis: { format: "~g", tickCount: 4 },
  };
  const panels = quantities.map(([q, , logAxis]) => {
    const raw = rows.filter((r) => r.quantity === q);
    const rawBase = base.filter((r) => r.quantity === q && !r.diverged);
    const kept = [...raw, ...rawBase].filter((r) => !r.diverged).map((r) => r.value);
    const values = kept.length ? kept : raw.map((r) => r.value);
    // Log for losses and 1 − |cos| when none is negative; exact zeros sit on the axis floor.
    const log = logAxis && values.every((v) => v >= 0) && values.some((v) => v > 0);
    const domain = log ? logDomain(values) : linearDomain(values);
    const floor = log && domain ? domain[0] : -Infinity;
    const lift = <T extends { value: number }>(r: T): T =>
      r.value < floor ? { ...r, value: floor } : r;
    const data = raw.map(lift);
    const baseData = rawBase.map(lift);
    const y = {
      field: "value",
      type: "quantitative",
      title: null,
      scale: {
        type: log ? "log" : "linear",
        domain,
        clamp: true,
        ...(log ? {} : { zero: false }),
      },
      axis: { format: "~g", tickCount: 5 },
    };
    const ok = data.filter((r) => !r.diverged);
    const bad = data.filter((r) => r.diverged);
    return {
      title: `${q}${log ? " (log)" : ""}`,
      width: WIDTH - 20,
      height: HEIGHT,
      layer: [
        {
          data: { values: ok },
          mark: { type: "point", filled: true, size: 40, opacity: 0.75 },
          encoding: { x, y, color: style.color, ...(style.shape ? { shape: style.shape } : {}) },
        },
        {
          data: { values: ok },
          mark: { type: "line" },
          encoding: { x, y: { ...y, aggregate: "mean" }, color: style.color },
        },
        ...(bad.length
          ? [{
            data: { values: bad },
            mark: { type: "point", shape: "cross", size: 90, filled: true, color: "black" },
            encoding: { x, y },
          }]
          : []),
        ...(baseData.length
          ? [{
            data: { values: baseData },
            mark: { type: "rule", strokeDash: [5, 4] },
            encoding: { y: { ...y, aggregate: "mean" }, color: style.color },
          }]
          : []),
      ],
    };
  });
  const order = quantities.map(([q]) => q);
  const ok = rows.filter((r) => !r.diverged);
  const measured = byOptimizer(ok).map(([o, rs]) => {
    const rhos = [...new Set(rs.map((r) => r.rho))].sort((a, b) => a - b);
    const lo = rhos[0], hi = rhos[rhos.length - 1];
    const at = (q: string, rho: number) =>
      mean(rs.filter((r) => r.quantity === q && r.rho === rho).map((r) => r.value));
    const parts = order.filter((q) => rs.some((r) => r.quantity === q)).map((q) =>
      `${q} ${fmt(at(q, lo))} → ${fmt(at(q, hi))}`
    );
    return `${o} (ρ ${fmt(lo)} → ${fmt(hi)}): ${parts.join(", ")}`;
  });
  for (const [o, rs] of byOptimizer(base)) {
    const parts = order.filter((q) => rs.some((r) => r.quantity === q)).map((q) =>
      `${q} ${fmt(mean(rs.filter((r) => r.quantity === q).map((r) => r.value)))}`
    );
    measured.push(`${o} (ignores ρ): ${parts.join(", ")}`);
  }
  const theory = [...optimizersRun(exp)].map((o) => RHO_THEORY[o]).filter(Boolean);
  const divergedHere = [...new Set(rows.filter((r) => r.diverged).map((r) => r.run))];
  return {
    name: `${exp.id}-vs-rho`,
    title: `${exp.id}: final metrics vs ρ`,
    caption: `Theory at a fixed step budget: ${
      theory.length ? theory.join("; ") : "no ρ prediction for these optimizers"
    }. Measured: ${measured.join("; ")}.${
      divergedHere.length
        ? ` Diverged (×, clamped to the panel, not in the means): ${divergedHere.join(", ")}.`
        : ""
    }${claimsSentence(exp, /rho|ρ|slope|baseline|test/i)}${drawnNote(style)}`,
    spec: grid(
      `${exp.id}: final values vs ρ (dots: runs, line: mean${
        base.length ? ", dashed: optimizers that ignore ρ" : ""
      })`,
      panels,
    ),
  };
}
