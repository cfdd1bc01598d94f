/**
 * The 4-D toy of Figure 1 as the figures see it: which family an experiment runs on, and the
 * functions F1 = λ1, F2 = λ_M and F1 + F2 = Tr on the manifold Γ.
 * @module
 */
import { TOY4D_FAMILIES, toy4dArgmins, type Toy4dFamily } from "../../../core/problems/toy4d.ts";
import { type ExperimentTables, metricsOf, num } from "../tables.ts";

/** Experiment ids whose data set is the toy, for plans that do not pass `dataset`. */
const TOY_IDS = new Set(["fig1-toy", "table1-explicit-bias"]);

/** F1 and F2 of a family: 3 + |x − c1|² and 1 + ½|x − c2|² with c1, c2 the argmins. */
export function toyFunctions(family: Toy4dFamily) {
  const { f1: [p1, q1], f2: [p2, q2] } = toy4dArgmins(family);
  const f1 = (a: number, b: number) => 3 + (a - p1) ** 2 + (b - q1) ** 2;
  const f2 = (a: number, b: number) => 1 + 0.5 * ((a - p2) ** 2 + (b - q2) ** 2);
  return { f1, f2, sum: (a: number, b: number) => f1(a, b) + f2(a, b) };
}

/**
 * The toy family of an experiment run on the 4-D toy, else undefined. From the dataset block when
 * the plan passes it; otherwise recognized from the data — 4 coordinates at Φ(x) whose λ1 and λ_M
 * are F1 and F2 of a family there (the toy's spectrum on Γ) — and failing that from known ids.
 */
export function toyFamily(exp: ExperimentTables): Toy4dFamily | undefined {
  if (exp.dataset) {
    if (exp.dataset.kind !== "toy4d") return undefined;
    return exp.dataset.family === "shifted" ? "shifted" : "paper";
  }
  const metrics = new Set(metricsOf(exp.spectra));
  if (metrics.has("phi_x_4") && !metrics.has("phi_x_5")) {
    const cols = ["phi_x_1", "phi_x_2", "phi_lambda_1", "phi_lambda_m"];
    const at = new Map<string, Record<string, number>>();
    for (const r of exp.spectra) {
      if (!cols.includes(String(r.metric))) continue;
      const key = `${r.run}\u0000${r.step}`;
      at.set(key, { ...at.get(key), [String(r.metric)]: num(r.value) });
    }
    const points = [...at.values()].filter((p) => cols.every((c) => Number.isFinite(p[c])));
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-4 * Math.abs(b);
    const family = TOY4D_FAMILIES.find((f) => {
      const fns = toyFunctions(f);
      return points.length > 0 &&
        points.every((p) =>
          close(p.phi_lambda_1, fns.f1(p.phi_x_1, p.phi_x_2)) &&
          close(p.phi_lambda_m, fns.f2(p.phi_x_1, p.phi_x_2))
        );
    });
    if (family) return family;
  }
  return TOY_IDS.has(exp.id) ? "paper" : undefined;
}
