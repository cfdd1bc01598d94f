import { writeToDir } from "../pipeline/pack.ts";
import * as aq from "arquero";
import { assert, assertEquals } from "../testing/assert.ts";
import type { InputArtifact, StageContext } from "../pipeline/stage.ts";
import { loadExperiment, type ReportParams, reportStage } from "./report.ts";
import { writeTable } from "./artifacts.ts";
import { checkPage, haveChromium } from "./report/browser.ts";

type Cells = Record<string, string | number>;

/** Writes rows as CSV (columns: every key of any row). */
async function csv(dir: string, name: string, rows: Cells[]): Promise<void> {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  // A trailing blank line, as hand-edited files often have: the report must not read it as a row.
  await Deno.writeTextFile(`${dir}/${name}`, aq.from(rows, names).toCSV() + "\n\n");
}

const RUNS = [
  { run: "gd", optimizer: "gd", lr: 0.05, rho: 0.01, batch: "", seed: 0 },
  { run: "sam", optimizer: "sam", lr: 0.05, rho: 0.01, batch: "", seed: 0 },
  { run: "1sam-seed0", optimizer: "1sam", lr: 0.05, rho: 0.01, batch: "", seed: 0 },
];
const STEPS = [0, 10, 100, 1000];
/** Endpoints (x1, x2) of the toy runs: each moves linearly from (1, 1) to here. */
const TOY_END: Record<string, [number, number]> = {
  gd: [0.976, 0.983],
  sam: [0.25, 0.5],
  "1sam-seed0": [-0.125, 0.375],
};

const CLAIMS: Cells[] = [
  {
    claim_id: "fig1-sam-endpoint",
    source: "Figure 1",
    statement: "SAM drifts to argmin F1",
    metric: "dist_to_argmin_f1",
    predicted: 0,
    measured: 0.559,
    spread: 0,
    tolerance: 0.1,
    verdict: "not reproduced",
    note: "short run",
  },
  {
    claim_id: "fig1-gd-frozen",
    source: "Figure 1",
    statement: "GD stays at Φ(x0)",
    metric: "moved",
    predicted: 0,
    measured: 0.03,
    spread: 0,
    tolerance: 0.05,
    verdict: "reproduced",
    note: "",
  },
  {
    claim_id: "fig1-identity",
    kind: "sanity",
    requires: "",
    source: "Lemma",
    statement: "an identity",
    metric: "moved",
    predicted: 0,
    measured: 0,
    spread: "NaN",
    tolerance: 1e-9,
    verdict: "reproduced",
    note: "",
  },
];

/** The toy experiment's three tables and its claims. */
async function toyTables(dir: string): Promise<void> {
  const traj: Cells[] = [], spec: Cells[] = [], summary: Cells[] = [];
  for (const r of RUNS) {
    const keys = { experiment: "fig1-toy", ...r };
    for (const step of STEPS) {
      const f = step / 1000, tau = r.lr * r.rho ** 2 * step;
      const [a, b] = TOY_END[r.run];
      const metrics = {
        loss: 0.4 * (1 - f) + 1e-5,
        grad_norm: 1.8 * (1 - f) + 1e-3,
        param_norm: 1.4,
        sample: r.optimizer === "1sam" ? step % 2 : -1,
        x1: 1 + f * (a - 1),
        x2: 1 + f * (b - 1),
        x3: 0.3 * (1 - f),
        x4: 0.3 * (1 - f),
      };
      for (const [metric, value] of Object.entries(metrics)) {
        traj.push({ ...keys, step, tau, metric, value });
      }
      if (step === 0 || step === 1000) {
        const spectral = {
          phi_lambda_1: 5 - f * (r.optimizer === "gd" ? 0 : 1),
          phi_lambda_m: 3.4 - f * (r.optimizer === "gd" ? 0 : 0.6),
          phi_trace: 8.4 - f * (r.optimizer === "gd" ? 0 : 1.6),
          cos_align: r.optimizer === "gd" ? "NaN" : 0.5 + 0.5 * f,
          cos_align_sample_mean: 0.9 + 0.1 * f,
        };
        for (const [metric, value] of Object.entries(spectral)) {
          spec.push({ ...keys, step, tau, metric, value });
        }
      }
    }
    const [a, b] = TOY_END[r.run];
    summary.push({ experiment: "fig1-toy", ...r, backend: "f64", diverged: "", x1: a, x2: b });
  }
  await csv(dir, "trajectory.csv", traj);
  await csv(dir, "spectra.csv", spec);
  await csv(dir, "summary.csv", summary);
  await csv(dir, "claims.csv", CLAIMS);
}

/** A tracking-error experiment: error = 2η exactly, two seeds per η, in a wide summary. */
async function trackingTables(dir: string): Promise<void> {
  const summary: Cells[] = [];
  for (const lr of [0.1, 0.05, 0.02, 0.01]) {
    for (const seed of [0, 1]) {
      summary.push({
        experiment: "thm45-flow",
        run: `sam-lr${lr}-seed${seed}`,
        optimizer: "sam",
        lr,
        rho: lr / 10,
        batch: "",
        seed,
        tracking_error: 2 * lr * (seed ? 1.1 : 0.9),
      });
    }
  }
  await csv(dir, "summary.csv", summary);
  await csv(dir, "claims.csv", [{
    claim_id: "thm45-slope",
    source: "Theorem 4.5",
    statement: "error O(η ln(1/ρ)) | slope ≈ 1, with a comma",
    metric: "slope",
    predicted: 1,
    measured: 1,
    spread: 0.01,
    tolerance: 0.2,
    verdict: "inconclusive",
    note: "a <b>note</b> & more",
  }]);
}

/**
 * A toy experiment the plan does not describe (no dataset block): the report must recognize the
 * toy from λ1 = F1 and λ_M = F2 at Φ(x), and compute SAM's tracking error against the closed-form
 * flow X(τ) = X(0)·e^{−τ}. The final Φ(x) sits exactly 2η off the flow at τ = 1.
 */
async function flowToyTables(dir: string): Promise<void> {
  const traj: Cells[] = [], spec: Cells[] = [];
  for (const lr of [0.1, 0.05]) {
    const keys = {
      experiment: "flow-toy",
      run: `sam-lr${lr}`,
      optimizer: "sam",
      lr,
      rho: lr / 10,
      batch: "",
      seed: 0,
    };
    const steps = [[0, 0, 1, 1], [1000, 1, Math.exp(-1) + 2 * lr, Math.exp(-1)]];
    for (const [step, tau, a, b] of steps) {
      for (const [metric, value] of Object.entries({ x1: a, x2: b, x3: 0, x4: 0 })) {
        traj.push({ ...keys, step, tau, metric, value });
      }
      const spectral = {
        phi_x_1: a,
        phi_x_2: b,
        phi_x_3: 0,
        phi_x_4: 0,
        phi_lambda_1: 3 + a * a + b * b,
        phi_lambda_m: 1 + 0.5 * ((a + 1) ** 2 + b * b),
      };
      for (const [metric, value] of Object.entries(spectral)) {
        spec.push({ ...keys, step, tau, metric, value });
      }
    }
  }
  await csv(dir, "trajectory.csv", traj);
  await csv(dir, "spectra.csv", spec);
}

/** An experiment the report does not know: one trajectory metric only. */
async function unknownTables(dir: string): Promise<void> {
  await csv(
    dir,
    "trajectory.csv",
    STEPS.map((step) => ({
      experiment: "mystery",
      run: "gd",
      optimizer: "gd",
      lr: 0.1,
      rho: 0,
      batch: "",
      seed: 0,
      step,
      tau: 0,
      metric: "foo",
      value: 1 / (1 + step),
    })),
  );
}

/** Builds the tabulate directories and returns them as inputs, in plan order. */
async function inputs(root: string): Promise<InputArtifact[]> {
  const make = async (id: string, fill?: (dir: string) => Promise<void>) => {
    const dir = `${root}/${id}`;
    await Deno.mkdir(dir, { recursive: true });
    if (fill) await fill(dir);
    return { id: `tabulate/${id}`, key: id, dir, params: { experiment: id } };
  };
  return [
    await make("fig1-toy", toyTables),
    await make("thm45-flow", trackingTables),
    await make("mystery", unknownTables),
    await make("flow-toy", flowToyTables),
    await make("empty"),
  ];
}

/** Runs the stage into a fresh directory and returns every file it wrote (relative path → text). */
async function runReport(
  tabulate: InputArtifact[],
  outDir: string,
  params: ReportParams,
): Promise<Map<string, string>> {
  await Deno.mkdir(outDir, { recursive: true });
  const ctx: StageContext = {
    id: `report/${params.name}`,
    params: params as unknown as Record<string, unknown>,
    inputs: { tabulate },
    outDir,
    write: writeToDir(outDir),
    progress() {},
    log() {},
  };
  await reportStage.run(ctx);
  const files = new Map<string, string>();
  const walk = async (dir: string, prefix: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(`${dir}/${e.name}`, `${prefix}${e.name}/`);
      else files.set(`${prefix}${e.name}`, await Deno.readTextFile(`${dir}/${e.name}`));
    }
  };
  await walk(outDir, "");
  return files;
}

const PARAMS: ReportParams = {
  name: "synthetic",
  experiments: [{ id: "fig1-toy", description: "The toy.", dataset: { kind: "toy4d" } }],
};

Deno.test("report stage: claims, figures, markdown and self-contained HTML from tabulate dirs", async () => {
  const root = await Deno.makeTempDir();
  try {
    const files = await runReport(await inputs(`${root}/in`), `${root}/out`, PARAMS);

    // claims.csv: every experiment's claims, `experiment` first, in input order.
    const claims = aq.fromCSV(files.get("claims.csv")!);
    const schema = JSON.parse(files.get("schema.json")!);
    assertEquals(
      schema.tables.claims.columns.map((c: { name: string }) => c.name),
      claims.columnNames(),
      "codebook lists every claims column",
    );
    assertEquals(claims.columnNames().slice(0, 3), ["experiment", "claim_id", "kind"]);
    assertEquals(claims.array("claim_id"), [
      "fig1-sam-endpoint",
      "fig1-gd-frozen",
      "fig1-identity",
      "thm45-slope",
    ]);
    assertEquals(claims.array("experiment"), ["fig1-toy", "fig1-toy", "fig1-toy", "thm45-flow"]);
    assertEquals(claims.array("statement")[3], "error O(η ln(1/ρ)) | slope ≈ 1, with a comma");

    // Figures: the ones whose data exist, none for missing tables.
    const svgs = [...files.keys()].filter((f) => f.endsWith(".svg")).sort();
    assertEquals(svgs, [
      "figures/fig1-toy-alignment.svg",
      "figures/fig1-toy-plane.svg",
      "figures/fig1-toy-spectra.svg",
      "figures/fig1-toy-trajectory.svg",
      "figures/flow-toy-plane.svg",
      "figures/flow-toy-spectra.svg",
      "figures/flow-toy-tracking.svg",
      "figures/mystery-trajectory.svg",
      "figures/thm45-flow-tracking.svg",
    ]);
    for (const f of svgs) {
      const spec = JSON.parse(files.get(f.replace(/\.svg$/, ".vl.json"))!);
      assert(spec.$schema.includes("vega-lite"), `${f}: its vega-lite spec beside it`);
      const svg = files.get(f)!;
      assert(svg.startsWith("<svg") && svg.endsWith("</svg>\n"), `${f}: one svg element`);
      for (const tag of ["g", "text"]) {
        // Opening tags that are not self-closing (`<text …/>` is an empty label).
        const opened = svg.match(new RegExp(`<${tag}(\\s[^>]*)?(?<!/)>`, "g"))?.length ?? 0;
        const closed = svg.match(new RegExp(`</${tag}>`, "g"))?.length ?? 0;
        assertEquals(opened, closed, `${f}: balanced <${tag}>`);
      }
    }
    const plane = files.get("figures/fig1-toy-plane.svg")!;
    for (
      const text of [
        "level sets of F1 = λ1 on Γ",
        "level sets of F2 = λ_M on Γ",
        "level sets of F1 + F2 = Tr on Γ",
        "argmin F1+F2",
        "1sam",
      ]
    ) assert(plane.includes(`>${text}</text>`), `plane figure shows '${text}'`);
    assert((plane.match(/mark-line/g) ?? []).length >= 6, "contour and trajectory lines per panel");
    assert(plane.includes("mark-symbol"), "start, end and argmin markers");
    const tracking = files.get("figures/thm45-flow-tracking.svg")!;
    assert(tracking.includes(">tracking_error</text>") && tracking.includes(">η</text>"));
    assert(files.get("figures/fig1-toy-spectra.svg")!.includes(">τ = ηρ²t</text>"));
    assert(files.get("figures/mystery-trajectory.svg")!.includes(">foo (log)</text>"));

    // report.md: claims table first, every claim with its verdict, then captions with table numbers.
    const md = files.get("report.md")!;
    assert(md.indexOf("## Contents") < md.indexOf("## Claims"));
    assert(md.indexOf("## Claims") < md.indexOf("## Experiments"));
    assert(
      md.includes(
        "**3 predictions: 1 reproduced, 1 not reproduced, 1 inconclusive; 1 sanity check passed (0 failed).**",
      ),
      "headline counts predictions only",
    );
    assert(md.includes("2 predictions: 1 reproduced, 1 not reproduced, 0 inconclusive; 1 sanity"));
    for (const c of claims.objects() as Record<string, string>[]) {
      const line = md.split("\n").find((l) =>
        l.startsWith(`| [${c.claim_id}](#exp-${c.experiment}) |`)
      );
      assert(line !== undefined, `claim ${c.claim_id} listed, linked to its section`);
      assert(line.includes(`**`) && line.includes(c.verdict), `claim ${c.claim_id} verdict`);
    }
    const identity = md.split("\n").find((l) => l.includes("fig1-identity"))!;
    assert(identity.includes("| sanity |") && identity.includes("| — |"), "NaN spread as —");
    assert(md.includes("[plane](figures/fig1-toy-plane.svg)"), "claims group links its figures");
    const endpoint = md.split("\n").find((l) => l.startsWith("| [fig1-sam-endpoint]"))!;
    assert(endpoint.endsWith("| [plane](figures/fig1-toy-plane.svg) |"), "row links its figure");
    assert(md.includes("slope ≈ 1, with a comma") && md.includes("\\| slope"), "pipes escaped");
    assert(md.includes("![fig1-toy: trajectories in the (x1, x2) plane (Figure 1)]"));
    assert(md.includes("sam (0.25, 0.5)"), "plane caption: measured SAM endpoint");
    assert(md.includes("1sam → argmin F1+F2 (-0.333, 0)"), "plane caption: predicted 1-SAM target");
    assert(md.includes("sam λ1 5 → 4"), "spectra caption: first → last λ1");
    assert(md.includes("sam slope 1 over 4 η values"), "tracking caption: fitted slope of 2η");
    assert(
      md.includes("sam slope 1 over 2 η values (error 0.1–0.2)"),
      "toy tracking error computed against the closed-form flow",
    );
    assert(md.includes("The toy."), "experiment description");
    assert(md.includes("### empty") && md.includes("_No tables were published._"));

    // report.html: self-contained, verdicts classed, one inline SVG per figure, unique ids.
    const html = files.get("report.html")!;
    const stripped = html.replaceAll('xmlns="http://www.w3.org/2000/svg"', "")
      .replaceAll('xmlns:xlink="http://www.w3.org/1999/xlink"', "");
    assert(!/http/i.test(stripped), "no external URL");
    assert(!/<script|<link|src=/i.test(html), "no script, link or src");
    assertEquals((html.match(/<svg /g) ?? []).length, svgs.length);
    assert(html.includes('<nav class="toc">'), "table of contents");
    assert(html.includes('<a href="#fig-fig1-toy-plane">plane</a>'), "claims link to figures");
    assert(html.includes('<section id="exp-fig1-toy">'), "experiment sections are anchors");
    assert(
      html.includes('<tr class="v-not-reproduced">') && html.includes('<tr class="v-reproduced">'),
    );
    assert(html.includes("a &lt;b&gt;note&lt;/b&gt; &amp; more"), "claim text escaped");
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    assertEquals(ids.length, new Set(ids).size, "ids unique across inlined SVGs");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("report stage: the same inputs give byte-identical outputs", async () => {
  const root = await Deno.makeTempDir();
  try {
    const tabulate = await inputs(`${root}/in`);
    const a = await runReport(tabulate, `${root}/a`, PARAMS);
    const b = await runReport(tabulate, `${root}/b`, PARAMS);
    assertEquals([...a.keys()].sort(), [...b.keys()].sort());
    for (const [name, text] of a) assertEquals(b.get(name), text, `${name} differs`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("report stage: no tabulate input still writes an empty claims table and a report", async () => {
  const root = await Deno.makeTempDir();
  try {
    const files = await runReport([], `${root}/out`, { name: "none" });
    assertEquals(files.get("claims.csv")!.split("\n")[0].split(",")[0], "experiment");
    assert(files.get("report.md")!.includes("No claims were evaluated."));
    assert(files.has("report.html"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

const HAVE_CHROMIUM = haveChromium();

Deno.test({
  name: "report stage: report.html in headless Chromium: no errors, every figure drawn, fits",
  // CI installs Chromium (.ci/run); elsewhere the test runs where it is installed.
  ignore: !HAVE_CHROMIUM && !Deno.env.get("CI"),
  async fn() {
    const root = await Deno.makeTempDir();
    try {
      await runReport(await inputs(`${root}/in`), `${root}/out`, PARAMS);
      const check = await checkPage(`${root}/out/report.html`, { width: 1280 });
      assertEquals(check.errors, [], "no errors in the page");
      assertEquals(check.brokenLinks, [], "every in-page link has a target");
      assertEquals(check.figures.length, 9);
      for (const f of check.figures) {
        assert(f.width > 50 && f.height > 50, `${f.id} drawn (${f.width} × ${f.height})`);
      }
      assert(check.scrollWidth <= check.innerWidth, "no horizontal scrolling at 1280 px");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("report: a long table reads the same rows from its Parquet twin as from its CSV", async () => {
  const root = await Deno.makeTempDir();
  try {
    const rows = STEPS.flatMap((step) =>
      ["loss", "grad_norm"].map((metric, i) => ({
        experiment: "t",
        run: `sam-seed${i}`,
        optimizer: "sam",
        lr: 0.05,
        rho: 0.01,
        batch: null,
        seed: i,
        steps: 1000,
        x0: i ? "[1,1,0.3,0.3]" : null,
        step,
        tau: step * 0.0005,
        metric,
        value: metric === "loss" ? 1 / (1 + step) : NaN,
      }))
    );
    const both = `${root}/both`, csvOnly = `${root}/csv`;
    for (const dir of [both, csvOnly]) {
      await Deno.mkdir(dir);
      await writeTable({ write: writeToDir(dir) }, "trajectory", aq.from(rows));
    }
    await Deno.remove(`${csvOnly}/trajectory.parquet`);
    const load = (dir: string) =>
      loadExperiment({ id: "tabulate/t", key: "k", dir, params: { experiment: "t" } });
    const [fromParquet, fromCsv] = [await load(both), await load(csvOnly)];
    assertEquals(fromParquet.trajectory.length, rows.length);
    assertEquals(fromParquet.trajectory, fromCsv.trajectory);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
