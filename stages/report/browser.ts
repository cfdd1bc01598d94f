/**
 * Checks a self-contained HTML page in headless Chromium (Debian's `chromium`): the page is copied
 * with a small probe script prepended, loaded from a file URL with networking and every background
 * service off, and the DOM Chromium dumps after the load event carries the probe's findings —
 * errors raised or logged, each figure's rendered size, anchors without a target, and whether the
 * page is wider than the window.
 * @module
 */

/** Where Debian installs Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether Chromium is installed where {@linkcode CHROMIUM} says (the browser tests need it). */
export function haveChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

/** What the probe found. */
export interface PageCheck {
  /** Errors: uncaught exceptions, failed resource loads, `console.error` calls. */
  readonly errors: readonly string[];
  /** Every `<figure>`'s id and its SVG's rendered width and height in CSS pixels. */
  readonly figures: readonly { id: string; width: number; height: number }[];
  /** `href="#…"` targets that no element has as id. */
  readonly brokenLinks: readonly string[];
  /** The document's scroll width and the window's inner width. */
  readonly scrollWidth: number;
  /** Inner width of the window. */
  readonly innerWidth: number;
}

const PROBE = `<script>
(() => {
  const errors = [];
  addEventListener("error", (e) => errors.push(e.message || "resource failed: " +
    (e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 120) : String(e))), true);
  addEventListener("unhandledrejection", (e) => errors.push("unhandled rejection: " + e.reason));
  const error = console.error;
  console.error = (...args) => { errors.push(args.map(String).join(" ")); error.apply(console, args); };
  addEventListener("load", () => {
    const figures = [...document.querySelectorAll("figure")].map((f) => {
      const svg = f.querySelector("svg");
      const r = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
      return { id: f.id, width: r.width, height: r.height };
    });
    const brokenLinks = [...document.querySelectorAll('a[href^="#"]')]
      .map((a) => decodeURIComponent(a.getAttribute("href").slice(1)))
      .filter((id) => !document.getElementById(id));
    const out = document.createElement("pre");
    out.id = "page-check";
    out.textContent = JSON.stringify({ errors, figures, brokenLinks,
      scrollWidth: document.documentElement.scrollWidth, innerWidth });
    document.body.appendChild(out);
  });
})();
</script>`;

/** Options of {@linkcode checkPage}. */
export interface CheckPageOptions {
  /** Window width in CSS pixels (default 1280). */
  readonly width?: number;
  /** Kill Chromium after this many milliseconds (default 60 000). */
  readonly timeoutMs?: number;
}

/** Loads an HTML file in headless Chromium and returns what the probe found. */
export async function checkPage(
  htmlPath: string,
  options: CheckPageOptions = {},
): Promise<PageCheck> {
  const dir = await Deno.makeTempDir({ prefix: "page-check-" });
  try {
    const html = await Deno.readTextFile(htmlPath);
    const at = html.indexOf("<head>");
    if (at < 0) throw new Error(`${htmlPath}: no <head>`);
    const page = `${dir}/page.html`;
    await Deno.writeTextFile(page, html.slice(0, at + 6) + PROBE + html.slice(at + 6));
    await Deno.mkdir(`${dir}/profile`);
    const command = new Deno.Command(CHROMIUM, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-extensions",
        `--user-data-dir=${dir}/profile`,
        `--window-size=${options.width ?? 1280},900`,
        "--virtual-time-budget=5000",
        "--dump-dom",
        `file://${page}`,
      ],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
    });
    const { stdout, stderr, success } = await command.output();
    const dom = new TextDecoder().decode(stdout);
    const m = /<pre id="page-check">([\s\S]*?)<\/pre>/.exec(dom);
    if (!success || !m) {
      const tail = new TextDecoder().decode(stderr).trim().split("\n").slice(-5).join("\n");
      throw new Error(`chromium did not report on ${htmlPath} (success ${success}):\n${tail}`);
    }
    const text = m[1].replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
      .replace(/&amp;/g, "&");
    return JSON.parse(text) as PageCheck;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
