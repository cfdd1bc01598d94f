/**
 * Spectra of the networks from tfjs Hessian-vector products (float32, through the float64 oracle
 * view the spectral stage uses) against the dense float64 Hessian of the closed-form problem, and
 * on Γ the Gram spectrum against both: the oracles of the network-scale spectra, on instances small
 * enough for a dense eigendecomposition.
 */
import { assert, assertClose } from "../../testing/assert.ts";
import { createTfEngine } from "../engine/tfjs.ts";
import { oracleFrom } from "../engine/oracle.ts";
import { createF64Problem, initialPoint, makeDataset } from "../problems/registry.ts";
import { createTfProblem } from "../problems/tf_registry.ts";
import { gaussNewtonProjection, gramEigenvalues } from "./gauss_newton.ts";
import { lanczos } from "./lanczos.ts";
import { hessianMatvec, symmetricEigen } from "./linalg.ts";
import { hutchPlusPlus } from "./trace.ts";

for (const depth of [2, 3] as const) {
  for (const backend of ["cpu", "wasm"] as const) {
    Deno.test(`depth-${depth} network on tfjs ${backend}: Lanczos and Hutch++ from float32 HVPs match the dense float64 Hessian, and on Γ the Gram spectrum`, async () => {
      const ds = makeDataset(
        { kind: "mlp", hidden: 6, d: 4, n: 10, nTest: 0, ...(depth === 3 ? { depth } : {}) },
        { seed: 4 },
      );
      const f64 = createF64Problem(ds);
      const dim = f64.dim, m = f64.numSamples;
      const model = {
        dim,
        numSamples: m,
        residuals: f64.residuals!.bind(f64),
        jacobian: f64.jacobian!.bind(f64),
      };
      // A point on Γ (so the Hessian is (2/M)JᵀJ there) and one off it.
      const onGamma = gaussNewtonProjection(model, initialPoint(ds, { seed: 1 }), { tol: 1e-13 });
      assert(onGamma.converged);
      const engine = await createTfEngine(backend);
      const objective = createTfProblem(ds);
      const oracle = oracleFrom(engine.ops(dim), objective);
      const offGamma = onGamma.x.map((v, i) => v + 0.05 * Math.sin(i + 1));
      for (const [label, x] of [["on Γ", onGamma.x], ["off Γ", offGamma]] as const) {
        const exact = symmetricEigen(f64.hessian!(x), dim).values;
        const exactTrace = exact.reduce((a, b) => a + b, 0);
        const eig = await lanczos(hessianMatvec(oracle, x), dim, { k: 3, tol: 1e-5, seed: 3 });
        // float32 HVPs: relative error ~1e-6 per product, far inside 1e-4 on the top eigenvalues.
        assertClose(eig.values.subarray(0, 3), exact.subarray(0, 3), {
          rtol: 1e-4,
          msg: `${label} λ1..λ3`,
        });
        const tr = await hutchPlusPlus(hessianMatvec(oracle, x), dim, { probes: 60, seed: 5 });
        assertClose(tr.estimate, exactTrace, {
          atol: 4 * tr.se + 1e-4 * Math.abs(exactTrace),
          msg: `${label} Hutch++ (se ${tr.se})`,
        });
        if (label === "on Γ") {
          const gram = gramEigenvalues(model, x, f64.gaussNewtonScale!);
          assertClose(gram, exact.subarray(0, m), { rtol: 1e-8, atol: 1e-10 * exact[0] });
          assertClose(gram.reduce((a, b) => a + b, 0), exactTrace, { rtol: 1e-9 });
        }
      }
      oracle.dispose?.();
      objective.dispose?.();
    });
  }
}
