import { assert, assertClose, assertEquals } from "../../../testing/assert.ts";
import type { Row } from "../tables.ts";
import { sweep } from "./fixtures.ts";
import { normFigure } from "./norm.ts";

Deno.test("normFigure: Thm 4.8's limit ηρλ1/(2 − ηλ1) per SAM run; GD sentence only with a GD run", () => {
  assertEquals(normFigure(sweep()), undefined, "only on a quadratic");
  const base = sweep({
    lrs: [0.1],
    rhos: [0.05],
    dataset: { kind: "quadratic", eigenvalues: [4, 1] },
  });
  const norms: Row[] = base.trajectory.filter((r) => r.metric === "loss").map((r) => ({
    ...r,
    metric: "param_norm",
    value: 0.1 * 0.05 * 4 / (2 - 0.4),
  }));
  const fig = normFigure({ ...base, trajectory: norms })!;
  const limits = (fig.spec as { layer: { data: { values: { value: number }[] } }[] }).layer[1];
  assertClose(limits.data.values[0].value, 0.0125, { rtol: 1e-12 });
  assert(fig.caption.includes("0.0125 vs 0.0125"), fig.caption);
  assert(!fig.caption.includes("GD"), fig.caption);
});
