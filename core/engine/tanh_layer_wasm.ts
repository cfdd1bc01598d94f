/**
 * The full-batch tanh hidden layer of the two-layer MLP's fused SAM step (core/problems/tf_mlp_sam.ts)
 * as two WebAssembly SIMD kernels on tfjs-wasm's own heap, one pass over the h×n layer each. With
 * u = sigmoid(2(pre + b)), tanh(pre + b) = 2u − 1 and tanh' = 4u(1 − u):
 *
 * - `layerForward(pre, {b, a, y, scale})`: u and the residual row e = scale·aᵀ(2u − 1) − y (1×n);
 * - `layerBackward(u, e, a)`: w = a⊙tanh'⊙e (h×n), ∇_a = (2u − 1)·eᵀ and w's row sums (h×1).
 *
 * These are the step's whole h×n work besides its products. As tfjs ops the same work took about
 * ten kernels and passes per gradient (sigmoid, an average pool for f, the products with e, the
 * slope, the row sums, the scaling by a), about 1.4 ms of the 1024-sample step's gradient against
 * 1.2 ms for each of its two products (measured). The sums use 2u − 1 itself, not 2·Σu⊙e − Σe, so
 * that where tanh is 0 (u = 1/2 exactly) they are 0 exactly, as the generic step's.
 *
 * sigmoid(x) = 1/(1 + exp(−x)) with x clamped to [−88, 87] (so that 2^k below stays a normal
 * float32 and exp(−x) finite): −x = k·ln2 − r, |r| ≤ ln2/2 (k by the 1.5·2²³ rounding trick, r
 * with ln2 in two parts whose first makes k·ln2 exact), exp(−x) = 2^k·exp(−r), exp(−r) by a
 * degree-5 polynomial (`EXP_NEG`). The clamp costs nothing float32 can show: at x = 87,
 * 1 − sigmoid(x) is below float32's spacing at 1, and at x = −88 sigmoid is below 1e-38. Within a
 * few float32 roundings of the float64 sigmoid (tested: at most 8·2⁻²⁴ relative; 3.6·2⁻²⁴
 * measured); NaN stays NaN. Row sums run in four lanes, column sums in row order.
 *
 * Its source is `TANH_LAYER_WAT`; the module ships as the binary `TANH_LAYER_WASM`, so that loading
 * needs no compiler, and tanh_layer_wasm_test.ts compiles the source with wabt and checks it gives
 * these bytes. The kernels import tfjs-wasm's memory, so they read and write tensors in place.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { ensureWasmKernel, heapAddress, heapModule, type WasmKernelBody } from "./wasm_kernel.ts";

/**
 * exp(−r) ≈ Σ cᵢ rⁱ, i = 0…5, on |r| ≤ ln2/2: c₀ = 1, c₁ = −1, and c₂…c₅ fitted by weighted least
 * squares to (exp(r) − 1 − r)/r² at 2000 Chebyshev nodes (relative weight), rounded to float32,
 * signs alternated for −r. Relative error below 1.2e-7 (2 float32 roundings), where the Taylor
 * series needs r⁷ for the same (two more terms: 15% of the kernel's time, measured).
 */
const EXP_NEG = [
  1,
  -1,
  0.49999141693115234,
  -0.1666688621044159,
  0.04189857840538025,
  -0.008333837613463402,
];

/**
 * The sigmoid's constants, each a v128 local set once per call (V8 keeps them in registers or on
 * the stack; a v128.const in the loop is rebuilt on every use, which made the kernel 1.6× slower).
 */
const CONSTANTS: ReadonlyArray<readonly [string, string]> = [
  ["hi", "(f32x4.splat (f32.const 87))"],
  ["lo", "(f32x4.splat (f32.const -88))"],
  ["log2e", `(f32x4.splat (f32.const ${Math.LOG2E}))`],
  ["magic", "(f32x4.splat (f32.const 12582912))"], // 1.5·2²³
  ["ln2a", "(f32x4.splat (f32.const 0.693359375))"], // ln2 = ln2a + ln2b, k·ln2a exact for |k| < 2⁹
  ["ln2b", "(f32x4.splat (f32.const -2.12194440e-4))"],
  // bits of 1.5·2²³ minus the exponent bias: (bits(j) − bias) << 23 is 2^k as a float32
  ["bias", "(i32x4.splat (i32.const 0x4B3FFF81))"],
  ...EXP_NEG.map((c, i) => [`c${i}`, `(f32x4.splat (f32.const ${c}))`] as const),
];

/**
 * WebAssembly text computing `$s` = sigmoid(`$x`) in four lanes: with x clamped to [−88, 87] and
 * x = −k·ln2 + r (so −x = k·ln2 − r), exp(−x) = 2^k·exp(−r).
 */
function sigmoidText(): string {
  const c = (name: string) => `(local.get $${name})`;
  let poly = c(`c${EXP_NEG.length - 1}`);
  for (let i = EXP_NEG.length - 2; i >= 0; i--) {
    poly = `(f32x4.add ${c(`c${i}`)} (f32x4.mul (local.get $r) ${poly}))`;
  }
  return `
        (local.set $t (f32x4.pmax (f32x4.pmin (local.get $x) ${c("hi")}) ${c("lo")}))
        (local.set $j (f32x4.sub ${c("magic")} (f32x4.mul (local.get $t) ${c("log2e")})))
        (local.set $k (f32x4.sub (local.get $j) ${c("magic")}))
        (local.set $r (f32x4.add (f32x4.add (local.get $t) (f32x4.mul (local.get $k) ${c("ln2a")}))
          (f32x4.mul (local.get $k) ${c("ln2b")})))
        (local.set $s (f32x4.div ${c("c0")} (f32x4.add ${c("c0")} (f32x4.mul
          (i32x4.shl (i32x4.sub (local.get $j) ${c("bias")}) (i32.const 23)) ${poly}))))`;
}

const SIGMOID_LOCALS =
  "(local $x v128) (local $t v128) (local $j v128) (local $k v128) (local $r v128) (local $s v128) " +
  CONSTANTS.map(([name]) => `(local $${name} v128)`).join(" ");

const SIGMOID_SETUP = CONSTANTS.map(([name, v]) => `    (local.set $${name} ${v})`).join("\n");

/** WebAssembly text of the sum of a v128's four lanes. */
const lanes = (v: string) =>
  `(f32.add (f32.add (f32x4.extract_lane 0 ${v}) (f32x4.extract_lane 1 ${v}))
    (f32.add (f32x4.extract_lane 2 ${v}) (f32x4.extract_lane 3 ${v})))`;

/**
 * The backward kernel's work on one vector: from $uv (u) and $ev (e), $tv = (2u − 1)·e and
 * $wv = 4a⊙(u⊙e − u⊙u⊙e) = a⊙tanh'⊙e ($aj holds 4a_j).
 */
const BACKWARD_LANES = `
            (local.set $ue (f32x4.mul (local.get $uv) (local.get $ev)))
            (local.set $tv (f32x4.mul (local.get $ev) (f32x4.sub (f32x4.add (local.get $uv) (local.get $uv)) (local.get $one))))
            (local.set $wv (f32x4.mul (local.get $aj) (f32x4.sub (local.get $ue) (f32x4.mul (local.get $uv) (local.get $ue)))))`;

/**
 * A loop while `p` is below `end`, advancing each of `advance` by `step` bytes: over one row's
 * vectors (16) or its last n mod 4 values (4).
 */
function loop(
  label: string,
  p: string,
  end: string,
  step: number,
  body: string,
  advance: string[],
) {
  return `
        (block $${label}_done
          (loop $${label}
            (br_if $${label}_done (i32.ge_u (local.get ${p}) (local.get ${end})))${body}
${
    advance.map((q) =>
      `            (local.set ${q} (i32.add (local.get ${q}) (i32.const ${step})))`
    ).join("\n")
  }
            (br $${label})))`;
}

/**
 * The start of a loop over the rows: `row` sets the row's values ($aj …), $end and $vend are the
 * ends of the row (and of its whole vectors) at `p`.
 */
function rowsHead(p: string, row: string): string {
  return `
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $row) (local.get $h)))
        ${row}
        (local.set $end (i32.add (local.get ${p}) (i32.shl (local.get $n) (i32.const 2))))
        (local.set $vend (i32.add (local.get ${p}) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))`;
}

const ROWS_TAIL = `
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows)))`;

/** A row's value of the h-vector at `v`, in four lanes. */
const rowSplat = (v: string) =>
  `(v128.load32_splat (i32.add (local.get ${v}) (i32.shl (local.get $row) (i32.const 2))))`;

/** The address of a row's value in the h-vector at `v`. */
const rowAddress = (v: string) =>
  `(i32.add (local.get ${v}) (i32.shl (local.get $row) (i32.const 2)))`;

/** The forward kernel's work on one vector at $m: $x = 2(pre + b_j), $s = sigmoid($x). */
const forwardLanes = (load: string) => `
            (local.set $x (f32x4.add (${load} (local.get $m)) (local.get $bj)))
            (local.set $x (f32x4.add (local.get $x) (local.get $x)))${sigmoidText()}`;

/** 2u − 1 = tanh from $s = u. */
const TANH_OF_S = "(f32x4.sub (f32x4.add (local.get $s) (local.get $s)) (local.get $c0))";

/**
 * The kernels in WebAssembly text, byte addresses and counts as i32, matrices h×n row-major:
 * forward(m, b, a, y, u, e, h, n, scale) writes u = sigmoid(2(m + b)) (b added along rows) and
 * e = scale·aᵀ(2u − 1) − y (n); backward(u, e, a, w, g, s, h, n) writes w = 4a⊙(u⊙e − u⊙u⊙e),
 * g = (2u − 1)·eᵀ and s = w·1 (h).
 */
export const TANH_LAYER_WAT = `(module
  (import "env" "memory" (memory 0))
  (func (export "forward") (param $m i32) (param $b i32) (param $a i32) (param $y i32) (param $u i32) (param $e i32) (param $h i32) (param $n i32) (param $scale f32)
    (local $row i32) (local $end i32) (local $vend i32) (local $pe i32) (local $aj v128) (local $bj v128) ${SIGMOID_LOCALS}
${SIGMOID_SETUP}${
  rowsHead(
    "$m",
    `(local.set $aj ${rowSplat("$a")})
        (local.set $bj ${rowSplat("$b")})`,
  )
}
        (local.set $pe (local.get $e))${
  loop(
    "vec",
    "$m",
    "$vend",
    16,
    `${forwardLanes("v128.load")}
            (v128.store (local.get $u) (local.get $s))
            (v128.store (local.get $pe) (f32x4.add (v128.load (local.get $pe)) (f32x4.mul (local.get $aj) ${TANH_OF_S})))`,
    [
      "$m",
      "$u",
      "$pe",
    ],
  )
}${
  loop(
    "tail",
    "$m",
    "$end",
    4,
    `${forwardLanes("v128.load32_splat")}
            (f32.store (local.get $u) (f32x4.extract_lane 0 (local.get $s)))
            (f32.store (local.get $pe) (f32.add (f32.load (local.get $pe))
              (f32x4.extract_lane 0 (f32x4.mul (local.get $aj) ${TANH_OF_S}))))`,
    ["$m", "$u", "$pe"],
  )
}${ROWS_TAIL}
    ;; e = scale·f − y, in place
    (local.set $end (i32.add (local.get $e) (i32.shl (local.get $n) (i32.const 2))))${
  loop(
    "residual",
    "$e",
    "$end",
    4,
    `
            (f32.store (local.get $e) (f32.sub (f32.mul (f32.load (local.get $e)) (local.get $scale)) (f32.load (local.get $y))))`,
    [
      "$e",
      "$y",
    ],
  )
})
  (func (export "backward") (param $u i32) (param $e i32) (param $a i32) (param $w i32) (param $g i32) (param $s i32) (param $h i32) (param $n i32)
    (local $row i32) (local $end i32) (local $vend i32) (local $pe i32) (local $aj v128) (local $one v128)
    (local $uv v128) (local $ev v128) (local $ue v128) (local $tv v128) (local $wv v128)
    (local $gacc v128) (local $sacc v128) (local $gsum f32) (local $ssum f32)
    (local.set $one (f32x4.splat (f32.const 1)))${
  rowsHead("$u", `(local.set $aj (f32x4.mul ${rowSplat("$a")} (f32x4.splat (f32.const 4))))`)
}
        (local.set $pe (local.get $e))
        (local.set $gacc (v128.const i32x4 0 0 0 0))
        (local.set $sacc (v128.const i32x4 0 0 0 0))${
  loop(
    "vec",
    "$u",
    "$vend",
    16,
    `
            (local.set $uv (v128.load (local.get $u)))
            (local.set $ev (v128.load (local.get $pe)))${BACKWARD_LANES}
            (local.set $gacc (f32x4.add (local.get $gacc) (local.get $tv)))
            (local.set $sacc (f32x4.add (local.get $sacc) (local.get $wv)))
            (v128.store (local.get $w) (local.get $wv))`,
    ["$u", "$pe", "$w"],
  )
}
        (local.set $gsum ${lanes("(local.get $gacc)")})
        (local.set $ssum ${lanes("(local.get $sacc)")})${
  loop(
    "tail",
    "$u",
    "$end",
    4,
    `
            (local.set $uv (v128.load32_splat (local.get $u)))
            (local.set $ev (v128.load32_splat (local.get $pe)))${BACKWARD_LANES}
            (local.set $gsum (f32.add (local.get $gsum) (f32x4.extract_lane 0 (local.get $tv))))
            (local.set $ssum (f32.add (local.get $ssum) (f32x4.extract_lane 0 (local.get $wv))))
            (f32.store (local.get $w) (f32x4.extract_lane 0 (local.get $wv)))`,
    ["$u", "$pe", "$w"],
  )
}
        (f32.store ${rowAddress("$g")} (local.get $gsum))
        (f32.store ${rowAddress("$s")} (local.get $ssum))${ROWS_TAIL}))
`;

/** `TANH_LAYER_WAT` compiled by wabt (parseWat with SIMD, toBinary), base64. */
export const TANH_LAYER_WASM =
  "AGFzbQEAAAABGAJgCX9/f39/f39/fQBgCH9/f39/f39/AAIPAQNlbnYGbWVtb3J5AgAAAwMCAAEHFgIHZm9yd2FyZAAACGJhY2t3YXJkAAEKsQkC4AUCBH8Ve0MAAK5C/RMhFUMAALDC/RMhFkM7qrg//RMhF0MAAEBL/RMhGEMAgDE//RMhGUODgF65/RMhGkGB///ZBP0RIRtDAACAP/0TIRxDAACAv/0TIR1D4P7/Pv0TIR5DPqsqvv0TIR9D2J0rPf0TISBDpooIvP0TISECQANAIAkgBk8NASACIAlBAnRq/QkCACENIAEgCUECdGr9CQIAIQ4gACAHQQJ0aiEKIAAgB0F8cUECdGohCyAFIQwCQANAIAAgC08NASAA/QAEACAO/eQBIQ8gDyAP/eQBIQ8gDyAV/eoBIBb96wEhECAYIBAgF/3mAf3lASERIBEgGP3lASESIBAgEiAZ/eYB/eQBIBIgGv3mAf3kASETIBwgHCARIBv9sQFBF/2rASAcIBMgHSATIB4gEyAfIBMgICATICH95gH95AH95gH95AH95gH95AH95gH95AH95gH95AH95gH95AH95wEhFCAEIBT9CwQAIAwgDP0ABAAgDSAUIBT95AEgHP3lAf3mAf3kAf0LBAAgAEEQaiEAIARBEGohBCAMQRBqIQwMAAsLAkADQCAAIApPDQEgAP0JAgAgDv3kASEPIA8gD/3kASEPIA8gFf3qASAW/esBIRAgGCAQIBf95gH95QEhESARIBj95QEhEiAQIBIgGf3mAf3kASASIBr95gH95AEhEyAcIBwgESAb/bEBQRf9qwEgHCATIB0gEyAeIBMgHyATICAgEyAh/eYB/eQB/eYB/eQB/eYB/eQB/eYB/eQB/eYB/eQB/eYB/eQB/ecBIRQgBCAU/R8AOAIAIAwgDCoCACANIBQgFP3kASAc/eUB/eYB/R8AkjgCACAAQQRqIQAgBEEEaiEEIAxBBGohDAwACwsgCUEBaiEJDAALCyAFIAdBAnRqIQoCQANAIAUgCk8NASAFIAUqAgAgCJQgAyoCAJM4AgAgBUEEaiEFIANBBGohAwwACwsLzAMDBH8JewJ9QwAAgD/9EyENAkADQCAIIAZPDQEgAiAIQQJ0av0JAgBDAACAQP0T/eYBIQwgACAHQQJ0aiEJIAAgB0F8cUECdGohCiABIQv9DAAAAAAAAAAAAAAAAAAAAAAhE/0MAAAAAAAAAAAAAAAAAAAAACEUAkADQCAAIApPDQEgAP0ABAAhDiAL/QAEACEPIA4gD/3mASEQIA8gDiAO/eQBIA395QH95gEhESAMIBAgDiAQ/eYB/eUB/eYBIRIgEyAR/eQBIRMgFCAS/eQBIRQgAyAS/QsEACAAQRBqIQAgC0EQaiELIANBEGohAwwACwsgE/0fACAT/R8BkiAT/R8CIBP9HwOSkiEVIBT9HwAgFP0fAZIgFP0fAiAU/R8DkpIhFgJAA0AgACAJTw0BIAD9CQIAIQ4gC/0JAgAhDyAOIA/95gEhECAPIA4gDv3kASAN/eUB/eYBIREgDCAQIA4gEP3mAf3lAf3mASESIBUgEf0fAJIhFSAWIBL9HwCSIRYgAyAS/R8AOAIAIABBBGohACALQQRqIQsgA0EEaiEDDAALCyAEIAhBAnRqIBU4AgAgBSAIQQJ0aiAWOAIAIAhBAWohCAwACwsL";

interface LayerExports {
  forward(
    m: number,
    b: number,
    a: number,
    y: number,
    u: number,
    e: number,
    h: number,
    n: number,
    scale: number,
  ): void;
  backward(
    u: number,
    e: number,
    a: number,
    w: number,
    g: number,
    s: number,
    h: number,
    n: number,
  ): void;
}

/** The kernels over a tfjs-wasm heap. */
const layerExports = heapModule<LayerExports>(TANH_LAYER_WASM);

const FORWARD = "SamTanhLayerForward";
const BACKWARD = "SamTanhLayerBackward";

const forward: WasmKernelBody = (inputs, attrs, wasm) => {
  const { m, b, a, y } = inputs as Record<string, tf.TensorInfo>;
  const [h, n] = m.shape;
  const u = wasm.makeOutput([h, n], "float32");
  const e = wasm.makeOutput([1, n], "float32");
  // Addresses taken after the allocations (which may grow the heap, never move a tensor).
  (wasm.typedArrayFromHeap(e) as Float32Array).fill(0);
  const at = (t: tf.TensorInfo) => heapAddress(wasm, t);
  const scale = (attrs as unknown as { scale: number }).scale;
  layerExports(wasm).forward(at(m), at(b), at(a), at(y), at(u), at(e), h, n, scale);
  return [u, e] as unknown as tf.TensorInfo;
};

const backward: WasmKernelBody = (inputs, _attrs, wasm) => {
  const { u, e, a } = inputs as Record<string, tf.TensorInfo>;
  const [h, n] = u.shape;
  const w = wasm.makeOutput([h, n], "float32");
  const g = wasm.makeOutput([h, 1], "float32");
  const s = wasm.makeOutput([h, 1], "float32");
  const at = (t: tf.TensorInfo) => heapAddress(wasm, t);
  layerExports(wasm).backward(at(u), at(e), at(a), at(w), at(g), at(s), h, n);
  return [w, g, s] as unknown as tf.TensorInfo;
};

function check(name: string, t: tf.Tensor, shape: number[]): void {
  if (t.dtype !== "float32" || t.shape.length !== 2 || t.shape.some((s, i) => s !== shape[i])) {
    throw new RangeError(
      `${name}: a float32 ${shape.join("×")} tensor, not ${t.dtype} ${t.shape.join("×")}`,
    );
  }
}

/** Whether the kernels can run: tfjs's backend is wasm. */
export function tanhLayerKernels(): boolean {
  return tf.getBackend() === "wasm";
}

/**
 * The forward pass of the tanh layer with the residual: for pre = W·zᵀ (h×n), b and a (h×1) and
 * y (1×n), u = sigmoid(2(pre + b)) (so tanh(pre + b) = 2u − 1) and e = scale·aᵀ(2u − 1) − y,
 * float32, on tfjs-wasm (`tanhLayerKernels`). Not differentiable (for hand-written gradients).
 */
export function layerForward(
  pre: tf.Tensor2D,
  ins: { b: tf.Tensor2D; a: tf.Tensor2D; y: tf.Tensor2D; scale: number },
): [u: tf.Tensor2D, e: tf.Tensor2D] {
  const [h, n] = pre.shape;
  check("pre", pre, [h, n]);
  check("b", ins.b, [h, 1]);
  check("a", ins.a, [h, 1]);
  check("y", ins.y, [1, n]);
  ensureWasmKernel(FORWARD, forward);
  return tf.engine().runKernel(FORWARD, { m: pre, b: ins.b, a: ins.a, y: ins.y }, {
    scale: ins.scale,
  }) as unknown as [tf.Tensor2D, tf.Tensor2D];
}

/**
 * The backward pass: w = a⊙tanh'⊙e = 4a⊙(u⊙e − u⊙u⊙e), g = (2u − 1)·eᵀ and the row sums s = w·1
 * for u (h×n), e (1×n) and a (h×1), float32, on tfjs-wasm (`tanhLayerKernels`): for the MLP's
 * residual e, ∇_W L = w·z, ∇_b L = s and ∇_a L = g. Not differentiable.
 */
export function layerBackward(
  u: tf.Tensor2D,
  e: tf.Tensor2D,
  a: tf.Tensor2D,
): [w: tf.Tensor2D, g: tf.Tensor2D, s: tf.Tensor2D] {
  const [h, n] = u.shape;
  check("u", u, [h, n]);
  check("e", e, [1, n]);
  check("a", a, [h, 1]);
  ensureWasmKernel(BACKWARD, backward);
  return tf.engine().runKernel(BACKWARD, { u, e, a }, {}) as unknown as [
    tf.Tensor2D,
    tf.Tensor2D,
    tf.Tensor2D,
  ];
}
