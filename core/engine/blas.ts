/**
 * OpenBLAS's `cblas_dgemm` and `cblas_sgemm` through Deno's FFI: the fast path of the f64 engine's
 * dense products (the MLP's full-batch gradient and Hessian-vector product), and of the large
 * products of tfjs-wasm's fused MLP SAM step (core/engine/sgemm_wasm.ts).
 *
 * Opt-in, through `SAM_BLAS`: a path names the library (it must load, or `loadBlas` throws);
 * `auto` tries Debian's `libopenblas0-pthread` path and, when it is missing or `--allow-ffi` does not
 * cover it, falls back; unset or `off`, the plain TypeScript loops serve (they are also the oracle
 * the fast path is tested against). Off by default so that published results are the same bits on
 * every machine, whichever BLAS it has. The library runs on one thread: stages already run in parallel,
 * and one thread gives the same bits on every machine with the same OpenBLAS kernel.
 * @module
 */

/** The default library: Debian's `libopenblas0-pthread` (the path `--allow-ffi` is scoped to). */
export const DEFAULT_BLAS_PATH = "/usr/lib/x86_64-linux-gnu/libopenblas.so.0";

/** Row-major storage, as every caller here uses. */
const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

/** The layout and transposition arguments that open every GEMM call. */
function order(transA: boolean, transB: boolean): [number, number, number] {
  return [ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS];
}

/** The FFI signature of cblas_dgemm ("f64") or cblas_sgemm ("f32"). */
function gemmSymbol<T extends "f64" | "f32">(real: T) {
  const i = "i32", p = "buffer";
  return { parameters: [i, i, i, i, i, i, real, p, i, p, i, real, p, i], result: "void" } as const;
}

const SYMBOLS = {
  cblas_dgemm: gemmSymbol("f64"),
  cblas_sgemm: gemmSymbol("f32"),
  openblas_set_num_threads: { parameters: ["i32"], result: "void" },
  openblas_get_config: { parameters: [], result: "pointer" },
  openblas_get_corename: { parameters: [], result: "pointer" },
  // libc, reached through the library's own dependencies: reading a C string with
  // Deno.UnsafePointerView needs --allow-ffi for every path, memcpy into a buffer does not.
  strlen: { parameters: ["pointer"], result: "usize" },
  memcpy: { parameters: ["buffer", "pointer", "usize"], result: "pointer" },
} as const;

/** The sizes of a product: op(A) is m×k, op(B) k×n, C m×n. */
export interface GemmDims {
  /** Rows of op(A) and C. */
  readonly m: number;
  /** Columns of op(B) and C. */
  readonly n: number;
  /** Columns of op(A), rows of op(B). */
  readonly k: number;
}

/** A loaded BLAS: row-major GEMM in double and single precision, and the library's identity. */
export interface Blas {
  /** "OpenBLAS <version and build options>; kernel <core>; 1 thread" (part of cache keys). */
  readonly identity: string;
  /**
   * C ← α·op(A)·op(B) + β·C, row-major; op(A) is m×k, op(B) k×n, C m×n. `transA`/`transB` say
   * whether A (stored k×m) or B (stored n×k) is read transposed; lda, ldb, ldc are row strides.
   */
  dgemm(
    transA: boolean,
    transB: boolean,
    dims: GemmDims,
    alpha: number,
    a: Float64Array,
    lda: number,
    b: Float64Array,
    ldb: number,
    beta: number,
    c: Float64Array,
    ldc: number,
  ): void;
  /** The same product in single precision (α and β rounded to float32). */
  sgemm(
    transA: boolean,
    transB: boolean,
    dims: GemmDims,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
}

/** Thrown when `SAM_BLAS` names a library that cannot be used. */
export class BlasError extends Error {
  /** The message names the variable, the path and the cause. */
  constructor(message: string) {
    super(message);
    this.name = "BlasError";
  }
}

let loaded: { blas?: Blas; reason: string } | undefined;

/** What `SAM_BLAS` asks for: a path, "auto", "off", or undefined (off). */
function request(): string | undefined {
  try {
    return Deno.env.get("SAM_BLAS") || undefined;
  } catch {
    return undefined;
  }
}

function open(path: string): Blas {
  const lib = Deno.dlopen(path, SYMBOLS);
  const s = lib.symbols;
  const cString = (p: Deno.PointerValue): string => {
    if (p === null) return "";
    const n = Number(s.strlen(p));
    const buf = new Uint8Array(n);
    s.memcpy(buf, p, BigInt(n));
    return new TextDecoder().decode(buf);
  };
  s.openblas_set_num_threads(1);
  const core = cString(s.openblas_get_corename());
  const identity = `${cString(s.openblas_get_config())}; kernel ${core}; 1 thread`;
  return {
    identity,
    dgemm(transA, transB, { m, n, k }, alpha, a, lda, b, ldb, beta, c, ldc) {
      s.cblas_dgemm(...order(transA, transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    },
    sgemm(transA, transB, { m, n, k }, alpha, a, lda, b, ldb, beta, c, ldc) {
      s.cblas_sgemm(...order(transA, transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    },
  };
}

/**
 * Resolves a `SAM_BLAS` value without memoizing: a path must load (else a `BlasError` naming the
 * cause), "off" or undefined gives none, "auto" tries Debian's OpenBLAS and gives none (with the
 * reason) when it is missing or `--allow-ffi` does not cover it — never a permission prompt.
 */
export function resolveBlas(want: string | undefined): { blas?: Blas; reason: string } {
  if (want === undefined) return { reason: "SAM_BLAS unset (set it to auto or a path to opt in)" };
  if (want === "off") return { reason: "SAM_BLAS=off" };
  const auto = want === "auto";
  const path = auto ? DEFAULT_BLAS_PATH : want;
  if (auto && Deno.permissions.querySync({ name: "ffi", path }).state !== "granted") {
    return { reason: `--allow-ffi does not cover ${path}` };
  }
  try {
    return { blas: open(path), reason: "" };
  } catch (e) {
    const cause = e instanceof Deno.errors.NotCapable
      ? `--allow-ffi does not cover ${path}`
      : `${path} cannot be loaded (${e instanceof Error ? e.message.split("\n")[0] : e})`;
    if (!auto) {
      throw new BlasError(
        `SAM_BLAS=${want}: ${cause}; install Debian's libopenblas0-pthread, name another ` +
          `OpenBLAS, or set SAM_BLAS=off`,
      );
    }
    return { reason: cause };
  }
}

/**
 * The process's BLAS, resolved once from `SAM_BLAS` (see `resolveBlas`; throws its `BlasError`).
 */
export function loadBlas(): Blas | undefined {
  loaded ??= resolveBlas(request());
  return loaded.blas;
}

/** The BLAS in use as one line: its identity, or "none" and why. */
export function blasStatus(): string {
  const blas = loadBlas();
  return blas ? blas.identity : `none (${loaded!.reason})`;
}
