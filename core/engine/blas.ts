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
  // glibc's (2.33 and later) view of the CPU: each CPUID leaf's bits and which are usable (the OS
  // saves their registers); absent elsewhere, and then no kernel is chosen.
  __x86_get_cpuid_feature_leaf: { parameters: ["u32"], result: "pointer", optional: true },
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
  /**
   * "OpenBLAS <version and build options>; kernel <core>; 1 thread", with a note when the kernel
   * was chosen for it (see {@linkcode chooseKernel}) (part of cache keys).
   */
  readonly identity: string;
  /**
   * The `OPENBLAS_CORETYPE` this process loaded the library with, when it chose one because the
   * library did not know the CPU: processes that load the same library (the bench's baselines)
   * should be given it too.
   */
  readonly coretype?: string;
  /** What {@linkcode chooseKernel} makes of this CPU's features, whichever kernel the library chose. */
  readonly bestKernel?: string;
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
  return envGet("SAM_BLAS");
}

/** The kernel a DYNAMIC_ARCH OpenBLAS falls back to on a CPU its build does not know. */
export const FALLBACK_KERNEL = "Prescott";

/**
 * The fastest OpenBLAS kernel family a CPU with these features runs (`/proc/cpuinfo`'s names; an
 * `OPENBLAS_CORETYPE` name every OpenBLAS since 0.3.0 knows), or undefined when none beats the
 * fallback. An OpenBLAS older than the CPU (Debian 12's 0.3.21 on Intel family 6 model 207) does
 * not recognise it and runs SSE3 kernels at a quarter of the speed; forcing a family whose
 * instructions the CPU lacks would crash on the first product, hence the flags.
 */
export function chooseKernel(flags: ReadonlySet<string>): string | undefined {
  const all = (...f: string[]) => f.every((x) => flags.has(x));
  if (all("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl")) return "SkylakeX";
  if (all("avx2", "fma")) return "Haswell";
  if (all("avx")) return "Sandybridge";
  return undefined;
}

/** The usable CPU features {@linkcode chooseKernel} looks at, as glibc reports them. */
function cpuFeatures(lib: Deno.DynamicLibrary<typeof SYMBOLS>): Set<string> | undefined {
  const { __x86_get_cpuid_feature_leaf: leaf, memcpy } = lib.symbols;
  if (!leaf) return undefined;
  // struct cpuid_feature: eax, ebx, ecx, edx as CPUID returns them, then the same four "active".
  const active = (index: number) => {
    const words = new Uint32Array(8);
    const p = leaf(index);
    if (p !== null) memcpy(words, p, 32n);
    return words.subarray(4);
  };
  const [leaf1, leaf7] = [active(0), active(1)];
  const [ecx1, ebx7] = [leaf1[2], leaf7[1]];
  const bits: [string, number, number][] = [
    ["avx", ecx1, 28],
    ["fma", ecx1, 12],
    ["avx2", ebx7, 5],
    ["avx512f", ebx7, 16],
    ["avx512dq", ebx7, 17],
    ["avx512cd", ebx7, 28],
    ["avx512bw", ebx7, 30],
    ["avx512vl", ebx7, 31],
  ];
  return new Set(bits.filter(([, word, bit]) => (word >>> bit) & 1).map(([name]) => name));
}

function envGet(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

/** Whether this process may set `OPENBLAS_CORETYPE` (without it the library's own choice stands). */
function mayChoose(): boolean {
  return Deno.permissions.querySync({ name: "env", variable: "OPENBLAS_CORETYPE" }).state ===
    "granted";
}

/** The library loaded with `OPENBLAS_CORETYPE` set to `coretype` (the variable removed after). */
function dlopenAs(path: string, coretype: string) {
  Deno.env.set("OPENBLAS_CORETYPE", coretype);
  try {
    return Deno.dlopen(path, SYMBOLS);
  } finally {
    Deno.env.delete("OPENBLAS_CORETYPE");
  }
}

// One load per library and process: a second dlopen of a loaded library returns the same one, whose
// kernel was chosen at the first, so its identity must be the first's too.
const opened = new Map<string, Blas>();

function open(path: string): Blas {
  let blas = opened.get(path);
  if (blas === undefined) opened.set(path, blas = load(path));
  return blas;
}

function load(path: string): Blas {
  let lib = Deno.dlopen(path, SYMBOLS);
  const cString = (p: Deno.PointerValue): string => {
    if (p === null) return "";
    const n = Number(lib.symbols.strlen(p));
    const buf = new Uint8Array(n);
    lib.symbols.memcpy(buf, p, BigInt(n));
    return new TextDecoder().decode(buf);
  };
  let core = cString(lib.symbols.openblas_get_corename());
  let coretype: string | undefined;
  let note = "";
  const features = cpuFeatures(lib);
  const best = features && chooseKernel(features);
  // The library reads OPENBLAS_CORETYPE once, when it loads: a user's setting is left alone, and a
  // fallback is replaced by closing the library and loading it again with the choice.
  if (
    core === FALLBACK_KERNEL && best && envGet("OPENBLAS_CORETYPE") === undefined && mayChoose()
  ) {
    lib.close();
    lib = dlopenAs(path, best);
    core = cString(lib.symbols.openblas_get_corename());
    if (core !== FALLBACK_KERNEL) {
      coretype = best;
      note = ` (OPENBLAS_CORETYPE=${best}: the library fell back to ${FALLBACK_KERNEL} here)`;
    }
  }
  const s = lib.symbols;
  s.openblas_set_num_threads(1);
  const identity = `${cString(s.openblas_get_config())}; kernel ${core}${note}; 1 thread`;
  return {
    identity,
    ...(coretype === undefined ? {} : { coretype }),
    ...(best === undefined ? {} : { bestKernel: best }),
    dgemm(transA, transB, { m, n, k }, alpha, a, lda, b, ldb, beta, c, ldc) {
      const lengths = { lengthA: a.length, lengthB: b.length, lengthC: c.length };
      checkGemm({ m, n, k }, { transA, transB, lda, ldb, ldc, ...lengths });
      s.cblas_dgemm(...order(transA, transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    },
    sgemm(transA, transB, { m, n, k }, alpha, a, lda, b, ldb, beta, c, ldc) {
      const lengths = { lengthA: a.length, lengthB: b.length, lengthC: c.length };
      checkGemm({ m, n, k }, { transA, transB, lda, ldb, ldc, ...lengths });
      s.cblas_sgemm(...order(transA, transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    },
  };
}

/** How a row-major product's operands are stored, as {@linkcode checkGemm} checks them. */
export interface GemmOperands {
  /** Whether A is stored k×m (read transposed). */
  readonly transA: boolean;
  /** Whether B is stored n×k (read transposed). */
  readonly transB: boolean;
  /** Row strides of A, B and C. */
  readonly lda: number;
  /** See lda. */
  readonly ldb: number;
  /** See lda. */
  readonly ldc: number;
  /** Values in A's buffer. */
  readonly lengthA: number;
  /** Values in B's buffer. */
  readonly lengthB: number;
  /** Values in C's buffer. */
  readonly lengthC: number;
}

/**
 * Throws a RangeError unless every operand of a row-major product holds what the library will read
 * and write: the library trusts the sizes and strides it is given, and a short buffer would be read
 * or written past its end on the process's native heap.
 */
export function checkGemm(dims: GemmDims, operands: GemmOperands): void {
  const { m, n, k } = dims;
  const { transA, transB, lda, ldb, ldc, lengthA, lengthB, lengthC } = operands;
  if (![m, n, k].every((d) => Number.isInteger(d) && d >= 0)) {
    throw new RangeError(`gemm: sizes m=${m}, n=${n}, k=${k} must be non-negative integers`);
  }
  const fits = (name: string, rows: number, cols: number, ld: number, length: number) => {
    if (!Number.isInteger(ld) || ld < Math.max(1, cols)) {
      throw new RangeError(`gemm: ld${name}=${ld} is less than the ${cols} columns of ${name}`);
    }
    const need = rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
    if (length < need) {
      throw new RangeError(
        `gemm: ${name} (${rows}×${cols}, ld ${ld}) needs ${need} values, its buffer has ${length}`,
      );
    }
  };
  fits("a", transA ? k : m, transA ? m : k, lda, lengthA);
  fits("b", transB ? n : k, transB ? k : n, ldb, lengthB);
  fits("c", m, n, ldc, lengthC);
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
