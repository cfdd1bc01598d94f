/**
 * The report documents: `report.md` (figures linked as `figures/<name>.svg`) and a self-contained
 * `report.html` (SVGs inlined, CSS inlined, no external URL). Both put the claims table first,
 * verdicts highlighted, then every figure with its one-line caption, experiment by experiment.
 * @module
 */
import { fmt, num, type Row } from "./tables.ts";

/** Columns of the claims table, in order (the report's `claims.csv` adds `experiment` in front). */
export const CLAIM_COLUMNS = [
  "claim_id",
  "source",
  "statement",
  "metric",
  "predicted",
  "measured",
  "spread",
  "tolerance",
  "verdict",
  "note",
] as const;

/** A rendered figure placed in the report. */
export interface ReportFigure {
  /** File stem (`figures/<name>.svg`). */
  readonly name: string;
  /** Heading. */
  readonly title: string;
  /** One-line caption. */
  readonly caption: string;
  /** The SVG text. */
  readonly svg: string;
}

/** One experiment's section of the report. */
export interface ReportSection {
  /** Experiment id. */
  readonly id: string;
  /** Its description from the experiment file, if known. */
  readonly description?: string;
  /** Its figures, in order. */
  readonly figures: readonly ReportFigure[];
  /** Why it has no figure (e.g. no tables), shown instead of figures. */
  readonly note?: string;
}

/** Everything the documents show. */
export interface ReportContent {
  /** Name of the experiment file (`name:`), e.g. `paper`. */
  readonly name: string;
  /** Claim rows with an `experiment` column, in report order. */
  readonly claims: readonly Row[];
  /** Sections, one per experiment. */
  readonly sections: readonly ReportSection[];
}

const VERDICT_MARK: Readonly<Record<string, string>> = {
  reproduced: "✓",
  "not reproduced": "✗",
  inconclusive: "?",
};

/** A cell as text: numbers to 4 significant digits, missing values empty. */
function cell(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return fmt(v);
  return String(v);
}

/** Counts of each verdict, in the fixed order reproduced, not reproduced, inconclusive, others. */
function verdictCounts(claims: readonly Row[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const v of Object.keys(VERDICT_MARK)) counts.set(v, 0);
  for (const c of claims) {
    const v = cell(c.verdict) || "(none)";
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return [...counts];
}

/** The table's columns: `experiment`, the claim columns, then any others the rows carry. */
function claimColumns(claims: readonly Row[]): string[] {
  const base = ["experiment", ...CLAIM_COLUMNS];
  const extra = [...new Set(claims.flatMap((c) => Object.keys(c)))].filter((k) =>
    !base.includes(k)
  );
  return [...base, ...extra];
}

/** One-line summary of the verdicts. */
function verdictLine(claims: readonly Row[]): string {
  const parts = verdictCounts(claims).filter(([, n]) => n > 0).map(([v, n]) => `${n} ${v}`);
  return `${claims.length} claim${claims.length === 1 ? "" : "s"}${
    parts.length ? ": " + parts.join(", ") : ""
  }.`;
}

/** Escapes a Markdown table cell. */
function mdCell(s: string): string {
  return s.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
}

/** The Markdown report. */
export function renderMarkdown(content: ReportContent): string {
  const out: string[] = [`# Reproduction report: ${content.name}`, ""];
  out.push(
    "Wen, Ma, Li (ICLR 2023), _How Does Sharpness-Aware Minimization Minimize Sharpness?_: every " +
      "prediction tested by these experiments, with the verdict computed from the published tables.",
    "",
    "## Claims",
    "",
  );
  if (content.claims.length === 0) out.push("No claims were evaluated.", "");
  else {
    out.push(verdictLine(content.claims), "");
    const cols = claimColumns(content.claims);
    out.push(`| ${cols.join(" | ")} |`, `| ${cols.map(() => "---").join(" | ")} |`);
    for (const c of content.claims) {
      const cells = cols.map((k) => {
        const text = mdCell(cell(c[k]));
        if (k !== "verdict") return text;
        const mark = VERDICT_MARK[text];
        return mark ? `**${mark} ${text}**` : text;
      });
      out.push(`| ${cells.join(" | ")} |`);
    }
    out.push("");
  }
  out.push("## Figures", "");
  for (const s of content.sections) {
    out.push(`### ${s.id}`, "");
    if (s.description) out.push(s.description, "");
    if (s.note) out.push(`_${s.note}_`, "");
    for (const f of s.figures) {
      out.push(`#### ${f.title}`, "", `![${f.title}](figures/${f.name}.svg)`, "", f.caption, "");
    }
  }
  return out.join("\n").replace(/\n+$/, "\n");
}

/** Escapes text for HTML content and attribute values. */
function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

const CSS = `
body { font-family: Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em;
  color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
table.claims { border-collapse: collapse; font-size: .85em; width: 100%; }
table.claims th, table.claims td { border: 1px solid #ccc; padding: .25em .4em; vertical-align: top; }
table.claims th { background: #f2f2f2; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.verdict { font-weight: bold; white-space: nowrap; }
tr.v-reproduced td.verdict { background: #d7f0d7; color: #135c13; }
tr.v-not-reproduced td.verdict { background: #f7d4d4; color: #8a1111; }
tr.v-inconclusive td.verdict { background: #fbefc8; color: #6b5200; }
figure { margin: 1.5em 0; overflow-x: auto; }
figcaption { font-size: .9em; color: #333; max-width: 1000px; }
p.summary { font-weight: bold; }
`;

/** The self-contained HTML report. */
export function renderHtml(content: ReportContent): string {
  const title = `Reproduction report: ${content.name}`;
  const out: string[] = [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    "</head>",
    "<body>",
    `<h1>${esc(title)}</h1>`,
    "<p>Wen, Ma, Li (ICLR 2023), <em>How Does Sharpness-Aware Minimization Minimize Sharpness?</em>: " +
    "every prediction tested by these experiments, with the verdict computed from the published tables.</p>",
    "<h2>Claims</h2>",
  ];
  if (content.claims.length === 0) out.push("<p>No claims were evaluated.</p>");
  else {
    out.push(`<p class="summary">${esc(verdictLine(content.claims))}</p>`);
    const cols = claimColumns(content.claims);
    out.push(
      '<table class="claims">',
      `<tr>${cols.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>`,
    );
    for (const c of content.claims) {
      const verdict = cell(c.verdict);
      const cls = `v-${verdict.replace(/[^a-z]+/gi, "-").toLowerCase()}`;
      const tds = cols.map((k) => {
        const text = cell(c[k]);
        if (k === "verdict") {
          const mark = VERDICT_MARK[verdict];
          return `<td class="verdict">${esc(mark ? `${mark} ${text}` : text)}</td>`;
        }
        const numeric = text !== "" && Number.isFinite(num(c[k]));
        return numeric ? `<td class="num">${esc(text)}</td>` : `<td>${esc(text)}</td>`;
      });
      out.push(`<tr class="${cls}">${tds.join("")}</tr>`);
    }
    out.push("</table>");
  }
  out.push("<h2>Figures</h2>");
  for (const s of content.sections) {
    out.push(`<h3 id="${esc(s.id)}">${esc(s.id)}</h3>`);
    if (s.description) out.push(`<p>${esc(s.description)}</p>`);
    if (s.note) out.push(`<p><em>${esc(s.note)}</em></p>`);
    for (const f of s.figures) {
      out.push(
        `<figure id="fig-${esc(f.name)}">`,
        `<h4>${esc(f.title)}</h4>`,
        stripXmlDeclaration(f.svg),
        `<figcaption>${esc(f.caption)}</figcaption>`,
        "</figure>",
      );
    }
  }
  out.push("</body>", "</html>", "");
  return out.join("\n");
}

/** SVG text without an XML declaration (not allowed inside HTML). */
function stripXmlDeclaration(svg: string): string {
  return svg.replace(/^<\?xml[^>]*>\s*/, "");
}
