/**
 * End to end: `reproduce --config experiments/quick.yaml` through the real CLI code path (real stage
 * kinds, temporary cache and results directories), then claims.csv is read back: every experiment
 * that declares claims has one row per claim with a computed verdict, and the claims expected to
 * hold at CI scale are reproduced.
 */
import * as aq from "arquero";
import { assert, assertEquals } from "../testing/assert.ts";
import { loadConfig } from "../pipeline/config.ts";
import { headline } from "./report/headline.ts";
import { TRAIN_RUNS } from "./run_fields.ts";
import { reproduceInto } from "./testing/run_config.ts";

const root = new URL("../", import.meta.url);
const config = new URL("experiments/quick.yaml", root).pathname;

/**
 * Claims that must be reproduced at quick.yaml's scale. Left out: claims whose runs quick.yaml omits
 * (the smallest η of GD on L^Asc, 1-SAM at η = 0.005), rows that are inconclusive by design (outside
 * Theorem 4.8's ηλ1 < 1, the negative control, the ρ = η MLPs, the diagonal net's rank-deficient
 * sparse interpolant), and predictions that τ = 0.5 is too short to decide (SAM vs 1-SAM on λ1 of
 * the MLP) or that the data contradict (held-out loss of SAM).
 */
const MUST_HOLD: Record<string, string[]> = {
  "fig1-toy": [
    "fig1-sam-endpoint",
    "fig1-1sam-endpoint",
    "fig1-sam-lower-lambda1-than-1sam",
    "fig1-1sam-lower-trace-than-sam",
    "fig1-sam-distance",
    "fig1-sam-alignment",
    "fig1-sam-sign-alternates",
    "fig1-1sam-sign-follows-sample",
    "fig1-gd-no-oscillation",
    "fig1-gd-stays",
    "fig1-1sam-sample-alignment",
  ],
  "toy-disagree": [
    "disagree-1sam-raises-lambda1",
    "disagree-1sam-lowers-trace",
    "disagree-sam-stays",
  ],
  "asc-eta-study": [
    "asc-distance-falls-with-eta",
    "asc-aligns-with-bottom-eigenvector",
    "asc-sam-not-bottom",
  ],
  "table1-explicit-bias": [
    "table1-max-endpoint",
    "table1-asc-distance-falls-with-eta",
    "table1-avg-endpoint",
    "table1-rmax-on-manifold",
    "table1-ravg-on-manifold",
  ],
  "thm48-quadratic": [
    "thm48-norm",
    "thm48-direction",
    "thm48-phase1",
    "usam-stability",
    "thm48-gd-converges",
  ],
  "thm48-quadratic-wide": [
    "thm48-norm",
    "thm48-direction",
    "thm48-phase1",
    "usam-stability",
    "thm48-gd-converges",
  ],
  "thm45-flow": [
    "thm45-error-bound",
    "thm45-error-slope",
    "thm45-corrected-error",
    "thm45-alignment-bound",
    "thm45-alignment-slope",
    "cor46-sharpness-along-flow",
    "thm45-distance",
    "cor46-finite-eta",
  ],
  "thm54-1sam": [
    "thm54-error-bound",
    "thm54-corrected-error",
    "thm54-error-slope",
    "thm54-sample-alignment",
  ],
  "sanity2d": ["sanity2d-balanced"],
  "ex58-minibatch": ["ex58-fullrank-no-alignment"],
  "ex58-rank1": ["ex58-rank1-alignment"],
  "mlp-regime": [
    "regime-1sam-lower-trace-than-sam",
    "regime-sam-lower-lambda1-than-gd",
    "regime-1sam-lower-trace-than-gd",
    "regime-sam-alignment",
    "regime-sam-distance",
    "regime-1sam-sample-alignment",
  ],
  "mlp-timescales": ["timescale-1sam", "timescale-lnsgd"],
  "mlp-setting51": [
    "mlp-no-drift",
    "mlp-gd-no-drift",
    "mlp-1sam-sample-alignment",
  ],
  "mlp-setting51-teacher": [
    "mlp-no-drift",
    "mlp-gd-no-drift",
    "mlp-1sam-sample-alignment",
  ],
  "diagonal-net": ["diag-usam-no-drift"],
};

/** Rows that must be inconclusive at this scale because an assumption check fails by design. */
const MUST_BE_INCONCLUSIVE: Record<string, string[]> = {
  "thm48-quadratic": ["thm48-outside-regime"],
  "thm45-flow": ["thm45-negative-control"],
  "mlp-setting51": [
    "mlp-sam-lower-lambda1-than-1sam",
    "mlp-sam-alignment",
    "mlp-sam-topk-alignment",
  ],
};

const VERDICTS = ["reproduced", "not reproduced", "inconclusive"];

Deno.test({
  name: "quick.yaml end to end: claims.csv per experiment, CI-scale claims reproduced",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "quick_e2e_" });
    try {
      const { code, out } = await reproduceInto(tmp, config);
      assertEquals(code, 0, out.slice(-2000));
      const set = await loadConfig(config, { runs: TRAIN_RUNS });
      for (const exp of set.experiments) {
        if (!exp.claims) continue;
        const csv = await Deno.readTextFile(`${tmp}/results/${exp.id}/claims.csv`);
        const rows = aq.fromCSV(csv).objects() as Record<string, unknown>[];
        const ids = (exp.claims as { id: string }[]).map((c) => c.id);
        assertEquals(rows.map((r) => r.claim_id), ids, exp.id);
        for (const r of rows) {
          assert(VERDICTS.includes(String(r.verdict)), `${exp.id}/${r.claim_id}: ${r.verdict}`);
          assert(["prediction", "sanity"].includes(String(r.kind)), `${exp.id}/${r.claim_id} kind`);
          // An inconclusive row is one whose assumption failed or whose runs this scale omits;
          // never a claim that lacks its evidence otherwise.
          if (r.verdict === "inconclusive") {
            assert(
              /^(assumption: |no run matches )/.test(String(r.note)),
              `${exp.id}/${r.claim_id} inconclusive: ${r.note}`,
            );
          }
          if (r.kind === "sanity") {
            assertEquals(r.verdict, "reproduced", `sanity ${exp.id}/${r.claim_id}: ${r.note}`);
          }
        }
        for (const id of MUST_BE_INCONCLUSIVE[exp.id] ?? []) {
          const r = rows.find((x) => x.claim_id === id);
          assert(r !== undefined && r.verdict === "inconclusive", `${exp.id}/${id}: ${r?.verdict}`);
          assert(String(r.note).startsWith("assumption: "), `${exp.id}/${id}: ${r.note}`);
        }
        for (const id of MUST_HOLD[exp.id] ?? []) {
          const r = rows.find((x) => x.claim_id === id);
          assert(r !== undefined, `${exp.id}: no row for ${id}`);
          assertEquals(
            r.verdict,
            "reproduced",
            `${exp.id}/${id}: measured ${r.measured}, predicted ${r.predicted} (${r.note})`,
          );
        }
      }
      assertEquals(
        Object.keys(MUST_HOLD).filter((id) => !set.experiments.some((e) => e.id === id)),
        [],
      );
      // The headline counts predictions only, by verdict, and sanity checks apart.
      const all = aq.fromCSV(await Deno.readTextFile(`${tmp}/results/claims.csv`))
        .objects() as Record<string, unknown>[];
      const declared = set.experiments.flatMap((e) =>
        ((e.claims ?? []) as { kind: string }[]).map((c) => c.kind)
      );
      assertEquals(
        all.filter((r) => r.kind === "prediction").length,
        declared.filter((k) => k === "prediction").length,
      );
      const line = headline(all);
      assert(line.startsWith(`${declared.filter((k) => k === "prediction").length} predictions: `));
      const report = await Deno.readTextFile(`${tmp}/results/report.md`);
      assert(report.includes(line), `report.md headline: ${line}`);
      assert(out.includes("predictions: "), "the end-of-run line counts predictions");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
