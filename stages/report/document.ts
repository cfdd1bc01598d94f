/**
 * The report documents: `report.md` (figures linked as `figures/<name>.svg`) and a self-contained
 * `report.html` (SVGs inlined, CSS inlined, no script, no external URL). Both open with a table of
 * contents and the headline (predictions only), then the claims grouped by experiment (each group
 * with its own headline, each row linking to its experiment's section and figures), then every
 * experiment's section with its figures and captions.
 * @module
 */
import { headline } from "./headline.ts";
import { fmt, num, type Row } from "./tables.ts";

/** Columns of the claims table, in order (the report's `claims.csv` adds `experiment` in front). */
export const CLAIM_COLUMNS = [
  "claim_id",
  "kind",
  "source",
  "statement",
  "requires",
  "metric",
  "predicted",
  "measured",
  "spread",
  "tolerance",
  "compare",
  "verdict",
  "note",
] as const;

/** Columns the report's tables show (the metric and compare mode stay in claims.csv). */
const SHOWN = [
  "claim_id",
  "kind",
  "source",
  "statement",
  "requires",
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
  reported: "·",
};

/** A cell as text: numbers to 4 significant digits, NaN as "—", missing values empty. */
function cell(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isNaN(v) ? "—" : fmt(v);
  if (v === "NaN") return "—";
  return String(v);
}

/** Claims grouped by experiment, groups in order of first appearance. */
function groups(content: ReportContent): [string, Row[]][] {
  const out = new Map<string, Row[]>();
  for (const c of content.claims) {
    const id = String(c.experiment ?? "");
    const list = out.get(id);
    if (list) list.push(c);
    else out.set(id, [c]);
  }
  return [...out];
}

/** The anchor of an experiment's section and of its claims group. */
const sectionId = (id: string) => `exp-${id}`;
const claimsId = (id: string) => `claims-${id}`;
const figureId = (name: string) => `fig-${name}`;

/** Escapes a Markdown table cell. */
function mdCell(s: string): string {
  return s.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
}

const INTRO = "Wen, Ma, Li (ICLR 2023), _How Does Sharpness-Aware Minimization Minimize " +
  "Sharpness?_: every prediction tested by these experiments, with the verdict computed from the " +
  "published tables. Sanity checks test the code (identities, structure), not the theory, and are " +
  "not counted with the predictions.";

/** The Markdown report. */
export function renderMarkdown(content: ReportContent): string {
  const out: string[] = [`# Reproduction report: ${content.name}`, "", INTRO, ""];
  const sections = new Map(content.sections.map((s) => [s.id, s]));
  out.push("## Contents", "", "- [Claims](#claims)");
  for (const [id] of groups(content)) out.push(`  - [${id}](#${claimsId(id)})`);
  out.push("- [Experiments](#experiments)");
  for (const s of content.sections) out.push(`  - [${s.id}](#${sectionId(s.id)})`);
  out.push("", '<a id="claims"></a>', "", "## Claims", "");
  if (content.claims.length === 0) out.push("No claims were evaluated.", "");
  else {
    out.push(`**${headline(content.claims)}.**`, "");
    for (const [id, rows] of groups(content)) {
      out.push(`<a id="${claimsId(id)}"></a>`, "", `### ${id}`, "", `${headline(rows)}.`, "");
      const figs = sections.get(id)?.figures ?? [];
      const links = [
        `[section](#${sectionId(id)})`,
        ...figs.map((f) => `[${f.name.slice(id.length + 1)}](figures/${f.name}.svg)`),
      ].join(", ");
      out.push(`Figures: ${links}`, "");
      out.push(
        `| ${SHOWN.join(" | ")} | see |`,
        `| ${SHOWN.map(() => "---").join(" | ")} | --- |`,
      );
      for (const c of rows) {
        const cells = SHOWN.map((k) => {
          const text = mdCell(cell(c[k]));
          if (k === "claim_id") return `[${text}](#${sectionId(id)})`;
          if (k !== "verdict") return text;
          const mark = VERDICT_MARK[text];
          return mark ? `**${mark} ${text}**` : text;
        });
        const see = citing(figs, String(c.claim_id ?? "")).map((f) =>
          `[${f.name.slice(id.length + 1)}](figures/${f.name}.svg)`
        );
        out.push(`| ${cells.join(" | ")} | ${see.join(", ") || `[section](#${sectionId(id)})`} |`);
      }
      out.push("");
    }
  }
  out.push('<a id="experiments"></a>', "", "## Experiments", "");
  for (const s of content.sections) {
    out.push(`<a id="${sectionId(s.id)}"></a>`, "", `### ${s.id}`, "");
    if (s.description) out.push(s.description, "");
    if (s.note) out.push(`_${s.note}_`, "");
    for (const f of s.figures) {
      out.push(
        `<a id="${figureId(f.name)}"></a>`,
        "",
        `#### ${f.title}`,
        "",
        `![${f.title}](figures/${f.name}.svg)`,
        "",
        f.caption,
        "",
        `Spec with data: [figures/${f.name}.vl.json](figures/${f.name}.vl.json)`,
        "",
      );
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
body { font-family: Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1150px; padding: 0 1em;
  color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
h3 { margin-top: 1.6em; }
nav.toc ul { margin: .2em 0; } nav.toc li { margin: .1em 0; }
nav.toc > ul > li > ul { padding-left: 1em; font-size: .9em; }
nav.toc > ul > li > ul > li { display: inline-block; margin-right: 1.2em; }
table.claims { border-collapse: collapse; font-size: .82em; width: 100%; table-layout: auto; }
table.claims th, table.claims td { border: 1px solid #ccc; padding: .25em .4em; vertical-align: top; }
table.claims th { background: #f2f2f2; text-align: left; }
table.claims td.statement { min-width: 18em; }
table.claims td.see { font-size: .9em; }
table.claims td.note, table.claims td.requires { font-size: .92em; color: #444; max-width: 24em;
  overflow-wrap: anywhere; }
table.claims details summary { cursor: pointer; color: #333; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.verdict { font-weight: bold; white-space: nowrap; }
tr.sanity td { color: #555; } tr.sanity td.kind { font-style: italic; }
tr.v-reproduced td.verdict { background: #d7f0d7; color: #135c13; }
tr.v-not-reproduced td.verdict { background: #f7d4d4; color: #8a1111; }
tr.v-inconclusive td.verdict { background: #fbefc8; color: #6b5200; }
p.links { font-size: .9em; }
figure { margin: 1.5em 0; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: .9em; color: #333; }
p.summary { font-weight: bold; }
`;

/** The figures whose caption cites a claim (captions list claims as "— id: …" or "; id: …"). */
function citing(figures: readonly ReportFigure[], claimId: string): ReportFigure[] {
  if (claimId === "") return [];
  return figures.filter((f) =>
    f.caption.includes(`— ${claimId}: `) || f.caption.includes(`; ${claimId}: `)
  );
}

/** Notes longer than this are folded in a `<details>` element. */
const NOTE_INLINE = 90;

/** A claims group's table. */
function claimsTable(id: string, rows: readonly Row[], figures: readonly ReportFigure[]): string[] {
  const out = [
    '<table class="claims">',
    `<tr>${SHOWN.map((c) => `<th>${esc(c)}</th>`).join("")}<th>see</th></tr>`,
  ];
  for (const c of rows) {
    const verdict = cell(c.verdict);
    const cls = [
      `v-${verdict.replace(/[^a-z]+/gi, "-").toLowerCase()}`,
      ...(["sanity", "measurement"].includes(String(c.kind ?? "")) ? ["sanity"] : []),
    ].join(" ");
    const tds = SHOWN.map((k) => {
      const text = cell(c[k]);
      if (k === "verdict") {
        const mark = VERDICT_MARK[verdict];
        return `<td class="verdict">${esc(mark ? `${mark} ${text}` : text)}</td>`;
      }
      if (k === "claim_id") {
        return `<td class="claim_id"><a href="#${esc(sectionId(id))}">${esc(text)}</a></td>`;
      }
      const numeric = text === "—" || (text !== "" && Number.isFinite(num(c[k])));
      if (k === "note" && text.length > NOTE_INLINE) {
        // Long notes (every case's value) fold away so the table stays readable.
        return `<td class="note"><details><summary>${esc(text.slice(0, 24))}…</summary>${
          esc(text)
        }</details></td>`;
      }
      return `<td class="${numeric ? "num" : k}">${esc(text)}</td>`;
    });
    const links = citing(figures, String(c.claim_id ?? "")).map((f) =>
      `<a href="#${esc(figureId(f.name))}">${esc(f.name.slice(id.length + 1))}</a>`
    );
    tds.push(
      `<td class="see">${
        links.length ? links.join(", ") : `<a href="#${esc(sectionId(id))}">section</a>`
      }</td>`,
    );
    out.push(`<tr class="${cls}">${tds.join("")}</tr>`);
  }
  out.push("</table>");
  return out;
}

/** The self-contained HTML report. */
export function renderHtml(content: ReportContent): string {
  const title = `Reproduction report: ${content.name}`;
  const sections = new Map(content.sections.map((s) => [s.id, s]));
  const claimGroups = groups(content);
  const out: string[] = [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    "</head>",
    "<body>",
    `<h1>${esc(title)}</h1>`,
    `<p>${esc(INTRO).replace(/_([^_]+)_/, "<em>$1</em>")}</p>`,
    '<nav class="toc"><h2>Contents</h2><ul>',
    `<li><a href="#claims">Claims</a><ul>${
      claimGroups.map(([id]) => `<li><a href="#${esc(claimsId(id))}">${esc(id)}</a></li>`).join(
        "",
      )
    }</ul></li>`,
    `<li><a href="#experiments">Experiments and figures</a><ul>${
      content.sections.map((s) => `<li><a href="#${esc(sectionId(s.id))}">${esc(s.id)}</a></li>`)
        .join("")
    }</ul></li>`,
    "</ul></nav>",
    '<h2 id="claims">Claims</h2>',
  ];
  if (content.claims.length === 0) out.push("<p>No claims were evaluated.</p>");
  else {
    out.push(`<p class="summary">${esc(headline(content.claims))}.</p>`);
    for (const [id, rows] of claimGroups) {
      const figs = sections.get(id)?.figures ?? [];
      out.push(
        `<h3 id="${esc(claimsId(id))}">${esc(id)}</h3>`,
        `<p class="summary">${esc(headline(rows))}.</p>`,
        `<p class="links">Figures: <a href="#${esc(sectionId(id))}">section</a>${
          figs.map((f) =>
            `, <a href="#${esc(figureId(f.name))}">${esc(f.name.slice(id.length + 1))}</a>`
          ).join("")
        }</p>`,
        ...claimsTable(id, rows, figs),
      );
    }
  }
  out.push('<h2 id="experiments">Experiments and figures</h2>');
  for (const s of content.sections) {
    out.push(`<section id="${esc(sectionId(s.id))}">`, `<h3>${esc(s.id)}</h3>`);
    if (s.description) out.push(`<p>${esc(s.description)}</p>`);
    if (sections.has(s.id) && claimGroups.some(([id]) => id === s.id)) {
      out.push(`<p class="links"><a href="#${esc(claimsId(s.id))}">Claims of ${esc(s.id)}</a></p>`);
    }
    if (s.note) out.push(`<p><em>${esc(s.note)}</em></p>`);
    for (const f of s.figures) {
      out.push(
        `<figure id="${esc(figureId(f.name))}">`,
        `<h4>${esc(f.title)}</h4>`,
        stripXmlDeclaration(f.svg),
        `<figcaption>${esc(f.caption)}</figcaption>`,
        "</figure>",
      );
    }
    out.push("</section>");
  }
  out.push("</body>", "</html>", "");
  return out.join("\n");
}

/** SVG text without an XML declaration (not allowed inside HTML). */
function stripXmlDeclaration(svg: string): string {
  return svg.replace(/^<\?xml[^>]*>\s*/, "");
}
