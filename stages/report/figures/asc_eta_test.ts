import { assert, assertEquals } from "../../../testing/assert.ts";
import { ascEtaFigure } from "./asc_eta.ts";
import { sweep } from "./fixtures.ts";

Deno.test("ascEtaFigure: distance to argmin λ_M ∝ √η on log–log axes; absent without an η sweep", () => {
  const lrs = [0.02, 0.005, 0.002, 0.0005];
  const base = sweep({ optimizer: "asc-exact", lrs, rhos: [0.04, 0.08] });
  // endpoints at (−1 + √η, 0, ±7ηρ, 0.16ρ): distance √η to argmin F2 = (−1, 0)
  const params = base.params!.flatMap((r) => {
    const lr = Number(r.lr), rho = Number(r.rho);
    const values = [-1 + Math.sqrt(lr), 0, 7 * lr * rho, 0.16 * rho];
    return r.coordinate === 1 ? values.map((value, i) => ({ ...r, coordinate: i + 1, value })) : [];
  });
  const fig = ascEtaFigure({ ...base, params })!;
  assert(fig.caption.includes("log–log slope 0.5 of the mean distance over 4 values"), fig.caption);
  // deno-lint-ignore no-explicit-any
  const enc = (fig.spec as { layer: { encoding: Record<string, any> }[] }).layer[0].encoding;
  assertEquals([enc.x.scale.type, enc.y.scale.type], ["log", "log"]);
  assertEquals(enc.color.field, "rho");
  assertEquals(ascEtaFigure(sweep({ optimizer: "sam", lrs })), undefined);
  assertEquals(ascEtaFigure(sweep({ optimizer: "asc-exact", lrs: [0.002] })), undefined);
});
