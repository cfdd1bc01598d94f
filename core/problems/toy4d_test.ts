import { assert, assertClose, assertEquals, assertThrows } from "../../testing/assert.ts";
import { F64Ops } from "../engine/f64.ts";
import { createStep } from "../optim/step.ts";
import type { OptimizerKind } from "../optim/types.ts";
import { Rng } from "../rng.ts";
import { createF64Problem, makeDataset } from "./registry.ts";
import { toy4dArgmins, type Toy4dFamily, Toy4dProblem } from "./toy4d.ts";

/** F1, F2 of docs/theory.md §7, written out independently of the module. */
const F: Record<Toy4dFamily, [(a: number, b: number) => number, (a: number, b: number) => number]> =
  {
    paper: [(a, b) => 3 + a * a + b * b, (a, b) => 1 + 0.5 * ((a + 1) ** 2 + b * b)],
    shifted: [(a, b) => 3 + (a - 1) ** 2 + b * b, (a, b) => 1 + 0.5 * (a * a + (b - 1) ** 2)],
  };

for (const family of ["paper", "shifted"] as const) {
  const p = createF64Problem(makeDataset({ kind: "toy4d", family }, { seed: 0 }));
  const [f1, f2] = F[family];

  Deno.test(`toy4d ${family}: losses are ½(F1x3² + F2x4²), L_0 = F1x3², L_1 = F2x4²`, () => {
    const rng = new Rng(1);
    for (let t = 0; t < 5; t++) {
      const x = rng.fillNormal(new Float64Array(4));
      const l0 = f1(x[0], x[1]) * x[2] ** 2, l1 = f2(x[0], x[1]) * x[3] ** 2;
      assertClose(p.loss(x, Int32Array.of(0)), l0, { rtol: 1e-14 });
      assertClose(p.loss(x, Int32Array.of(1)), l1, { rtol: 1e-14 });
      assertClose(p.loss(x), 0.5 * (l0 + l1), { rtol: 1e-14 });
    }
  });

  Deno.test(`toy4d ${family}: on Γ the Hessian is diag(0, 0, F1, F2); the eigengap F1 − F2`, () => {
    const rng = new Rng(2);
    for (let t = 0; t < 5; t++) {
      const a = 2 * rng.normal(), b = 2 * rng.normal();
      const h = p.hessian!(Float64Array.of(a, b, 0, 0));
      const expected = new Float64Array(16);
      expected[10] = f1(a, b);
      expected[15] = f2(a, b);
      assertClose(h, expected, { rtol: 1e-15 });
      // F1 − F2 = ½(a − 1)² + ½b² + 1 ≥ 1 (paper); = ½(a − 2)² + ½(b + 1)² ≥ 0 (shifted: the gap
      // closes at (2, −1), away from the argmins).
      const gap = family === "paper"
        ? 0.5 * (a - 1) ** 2 + 0.5 * b * b + 1
        : 0.5 * (a - 2) ** 2 + 0.5 * (b + 1) ** 2;
      assertClose(f1(a, b) - f2(a, b), gap, { rtol: 1e-13, atol: 1e-14 });
      // Per-sample Hessians on Γ are rank one: 2F1 e3e3ᵀ and 2F2 e4e4ᵀ.
      assertClose(p.hessian!(Float64Array.of(a, b, 0, 0), Int32Array.of(0))[10], 2 * f1(a, b), {
        rtol: 1e-15,
      });
    }
  });

  Deno.test(`toy4d ${family}: argmins of F1, F2, F1 + F2 are where their gradients vanish`, () => {
    const m = toy4dArgmins(family);
    const fdZero = (f: (a: number, b: number) => number, [a, b]: [number, number]) => {
      const e = 1e-6;
      assertClose((f(a + e, b) - f(a - e, b)) / (2 * e), 0, { atol: 1e-8 });
      assertClose((f(a, b + e) - f(a, b - e)) / (2 * e), 0, { atol: 1e-8 });
    };
    fdZero(f1, m.f1);
    fdZero(f2, m.f2);
    fdZero((a, b) => f1(a, b) + f2(a, b), m.sum);
    if (family === "paper") {
      assertEquals(m, { f1: [0, 0], f2: [-1, 0], sum: [-1 / 3, 0] });
    } else {
      assertEquals(m, { f1: [1, 0], f2: [0, 1], sum: [2 / 3, 1 / 3] });
    }
  });
}

Deno.test("toy4d: the family defaults to paper; an unknown family is a RangeError", () => {
  const ds = makeDataset({ kind: "toy4d" }, { seed: 0 });
  assertEquals(ds.params.family, "paper");
  assertEquals((createF64Problem(ds) as Toy4dProblem).family, "paper");
  assertThrows(
    () => makeDataset({ kind: "toy4d", family: "other" as never }, { seed: 0 }),
    /toy4d: family must be one of paper, shifted/,
  );
});

for (const family of ["paper", "shifted"] as const) {
  Deno.test(`toy4d ${family}: the fused SAM, 1-SAM and L^Asc steps give the generic step's bits`, () => {
    const p = createF64Problem(makeDataset({ kind: "toy4d", family }, { seed: 0 }));
    const generic = { ...p, fusedSam: undefined, fusedAsc: undefined, grad: p.grad.bind(p) };
    generic.hvp = p.hvp.bind(p);
    generic.loss = p.loss.bind(p);
    // x0 = 0 has ∇L = 0 (the e₁ branches); the others are Figure 1's starts and a random one.
    const starts = [[1, 1, 0.3, 0.3], [-1.5, 0.8, 0.3, 0.3], [0, 0, 0, 0], [0.4, -2, 1.7, -0.9]];
    const kinds: OptimizerKind[] = ["sam", "1sam", "asc-exact"];
    for (const kind of kinds) {
      for (const x0 of starts) {
        const run = (o: typeof p) => {
          const step = createStep(new F64Ops(4), o, { kind, lr: 0.05, rho: 0.1 }, new Rng(4));
          const x = Float64Array.from(x0);
          for (let t = 0; t < 2000; t++) step.step(x);
          return x;
        };
        const fused = run(p), plain = run(generic as typeof p);
        assertEquals(Array.from(fused), Array.from(plain), `${kind} from ${x0}`);
        // (On x3 = x4 = 0 every gradient is 0, so from 0 nothing moves, by either step.)
        const still = x0.every((v) => v === 0);
        assert(still || fused.some((v, i) => v !== x0[i]), `${kind} from ${x0}: x moved`);
      }
    }
  });
}
