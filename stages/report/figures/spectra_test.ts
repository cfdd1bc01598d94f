import { assert, assertEquals } from "../../../testing/assert.ts";
import { sweep } from "./fixtures.ts";
import { spectraFigure } from "./spectra.ts";

Deno.test("spectraFigure: theory per data set and optimizers run; first → last measured", () => {
  const toy = spectraFigure(sweep({ lrs: [0.01], rhos: [0.1] }))!;
  assert(toy.caption.includes("SAM decreases λ1"), toy.caption);
  assert(!toy.caption.includes("1-SAM"), "only optimizers that ran");
  assert(toy.caption.includes("sam λ1 5 → 4, Tr 8 → 7"), toy.caption);
  const quad = spectraFigure(sweep({ dataset: { kind: "quadratic" } }))!;
  assert(quad.caption.includes("Hessian is constant"), quad.caption);
  assert(!quad.caption.includes("SAM decreases"), quad.caption);
  assertEquals(spectraFigure({ ...sweep(), spectra: [] }), undefined);
});

Deno.test("spectraFigure: lists this experiment's claims on the spectrum", () => {
  const claims = [{
    claim_id: "sam-lambda1",
    kind: "prediction",
    statement: "SAM decreases λ1 by 10%.",
    predicted: -0.1,
    measured: -0.2,
    verdict: "reproduced",
  }, { claim_id: "identity", kind: "sanity", statement: "λ1 identity", verdict: "reproduced" }];
  const fig = spectraFigure(sweep({ claims }))!;
  assert(
    fig.caption.includes(
      "sam-lambda1: SAM decreases λ1 by 10% (predicted -0.1, measured -0.2: reproduced)",
    ),
    fig.caption,
  );
  assert(!fig.caption.includes("identity"), "sanity checks are not predictions");
});
