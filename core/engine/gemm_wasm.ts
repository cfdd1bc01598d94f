/**
 * Float32 matrix products C = A·B on tfjs-wasm's heap by a WebAssembly kernel of the project's that
 * uses relaxed SIMD's fused multiply-add (`f32x4.relaxed_madd`). tfjs-backend-wasm 4.22's matMul
 * runs XNNPACK built for 128-bit SIMD without FMA (a multiply and an add per four lanes), near
 * 25–37 GFLOP/s on one core of this project's machines; with the FMA the same 128-bit lanes reach
 * 45–52 GFLOP/s on the MLP's shapes, 256×64·64×1024 and 256×1024·1024×64, where XNNPACK reached
 * 33–37 on the same core (measured in one process, tensors on tfjs-wasm's heap); 56–58 on a Zen 5
 * core, two four-lane FMAs per cycle.
 *
 * Blocks of 6 rows × 8 columns of C (twelve v128 accumulators, the most x64's sixteen vector
 * registers hold beside two of B's vectors and one of A's values), the 8 columns walking B's rows
 * in place: packing B's panels did not pay (measured: 0.76 against 0.74 ms), except where B's rows
 * lie 2 or 4 KB apart, which `strideOfB` pads. The last m mod 6 rows
 * run as one block of fewer rows, columns past the last 8 as a block of 4, and the last n mod 4
 * as a block of the last 4 columns, which writes again the same values in the columns it shares
 * (each lane's sum is the same operations in the same order); only products with n < 4 take
 * scalar dot products. Sums run in k's order in every lane.
 *
 * Relaxed SIMD lets an engine compute relaxed_madd fused or as a multiply and an add; V8 on x64
 * with FMA fuses it. So a product may differ between machines in its last bits (within the
 * rounding bound tested), never between two runs on one machine; `gemmMadd` tells which. Where the
 * engine has no relaxed SIMD (`gemmKernel()` false), `product` in sgemm_wasm.ts keeps tf.matMul.
 *
 * Its source is `GEMM_WAT`; the module ships as the binary `GEMM_WASM`, and gemm_wasm_test.ts
 * compiles the source with wabt and checks it gives these bytes.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { ensureWasmKernel, heapAddress, heapModule, type WasmKernelBody } from "./wasm_kernel.ts";

/** Rows of C per block. */
const ROWS = 6;

/**
 * k steps per loop iteration (B read through one pointer per step of it), so that the pointers
 * advance once per four steps: 10–15% faster than one step per iteration on the MLP's shapes, two
 * 5–10%, eight the same (measured).
 */
const UNROLL = 4;

/**
 * The locals and code of a block: C[R rows, 4V columns] = A[R rows, k]·B[k, 4V columns] at byte
 * addresses $pa, $pb, $pc, with row strides $lda (A), $ldb (B) and $ldc (C) in bytes, for $k ≥ 1
 * (counted down to 0); the accumulators must be zero.
 */
function blockParts(rows: number, vectors: number): { locals: string; code: string } {
  const acc = (r: number, v: number) => `$c${r}_${v}`;
  const locals = [
    ...Array.from({ length: rows }, (_, r) => `(local $a${r} i32)`),
    ...Array.from(
      { length: rows * vectors },
      (_, i) => `(local ${acc(Math.floor(i / vectors), i % vectors)} v128)`,
    ),
    ...Array.from({ length: vectors }, (_, v) => `(local $b${v} v128)`),
    "(local $s v128) (local $ldbu i32) (local $krest i32)",
    ...Array.from({ length: UNROLL - 1 }, (_, u) => `(local $pb${u + 1} i32)`),
  ].join(" ");
  const lines: string[] = ["(local.set $a0 (local.get $pa))"];
  for (let r = 1; r < rows; r++) {
    lines.push(`(local.set $a${r} (i32.add (local.get $a${r - 1}) (local.get $lda)))`);
  }
  /** One k step reading A at byte offset `ao` from the row pointers and B at `pb`. */
  const step = (ao: number, pb: string) => {
    const out: string[] = [];
    for (let v = 0; v < vectors; v++) {
      out.push(`(local.set $b${v} (v128.load offset=${16 * v} (local.get ${pb})))`);
    }
    for (let r = 0; r < rows; r++) {
      out.push(`(local.set $s (v128.load32_splat offset=${ao} (local.get $a${r})))`);
      for (let v = 0; v < vectors; v++) {
        out.push(
          `(local.set ${
            acc(r, v)
          } (f32x4.relaxed_madd (local.get $s) (local.get $b${v}) (local.get ${acc(r, v)})))`,
        );
      }
    }
    return out;
  };
  const advance = (bytes: number, pbStep: string, pbs: string[]) => [
    ...Array.from(
      { length: rows },
      (_, r) => `(local.set $a${r} (i32.add (local.get $a${r}) (i32.const ${bytes})))`,
    ),
    ...pbs.map((p) => `(local.set ${p} (i32.add (local.get ${p}) ${pbStep}))`),
  ];
  const stores: string[] = [];
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < vectors; v++) {
      stores.push(`(v128.store offset=${16 * v} (local.get $pc) (local.get ${acc(r, v)}))`);
    }
    stores.push("(local.set $pc (i32.add (local.get $pc) (local.get $ldc)))");
  }
  // k mod UNROLL single steps first, then UNROLL steps per iteration.
  const pointers = Array.from({ length: UNROLL }, (_, u) => u === 0 ? "$pb" : `$pb${u}`);
  const code = `
    ${lines.join("\n    ")}
    ${
    pointers.slice(1).map((p, u) =>
      `(local.set ${p} (i32.add (local.get ${pointers[u]}) (local.get $ldb)))`
    ).join("\n    ")
  }
    (local.set $ldbu (i32.mul (local.get $ldb) (i32.const ${UNROLL})))
    (local.set $krest (i32.and (local.get $k) (i32.const ${UNROLL - 1})))
    (block $krest_done
      (loop $krest_loop
        (br_if $krest_done (i32.eqz (local.get $krest)))
        ${[...step(0, "$pb"), ...advance(4, "(local.get $ldb)", pointers)].join("\n        ")}
        (local.set $krest (i32.sub (local.get $krest) (i32.const 1)))
        (br $krest_loop)))
    (local.set $k (i32.shr_u (local.get $k) (i32.const ${Math.log2(UNROLL)})))
    (if (local.get $k)
      (then
        (loop $k_loop
        ${
    [
      ...pointers.flatMap((p, u) => step(4 * u, p)),
      ...advance(4 * UNROLL, "(local.get $ldbu)", pointers),
    ].join("\n        ")
  }
        (br_if $k_loop (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
    ${stores.join("\n    ")}`;
  return { locals, code };
}

/** The text of `$block_R_V`, a function of the block's addresses, k and strides. */
function blockText(rows: number, vectors: number): string {
  const { locals, code } = blockParts(rows, vectors);
  // Locals start at zero, so the accumulators need no clearing.
  return `
  (func $block_${rows}_${vectors} (param $pa i32) (param $pb i32) (param $pc i32) (param $k i32) (param $lda i32) (param $ldb i32) (param $ldc i32)
    ${locals}${code})`;
}

/**
 * The text of `$rows_V`: every row of C's 4V columns from column byte offset $j, the blocks of 6
 * rows inline, the last m mod 6 as one call.
 */
function rowsText(vectors: number): string {
  const call = (rows: number) =>
    `(call $block_${rows}_${vectors} (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda)))
          (i32.add (local.get $b) (local.get $j))
          (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc)) (local.get $j)))
          (local.get $depth) (local.get $lda) (local.get $ldb) (local.get $ldc))`;
  const { locals, code } = blockParts(ROWS, vectors);
  const zero = Array.from(
    { length: ROWS * vectors },
    (_, i) => `(local.set $c${Math.floor(i / vectors)}_${i % vectors} (v128.const i64x2 0 0))`,
  ).join("\n        ");
  return `
  (func $rows_${vectors} (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $depth i32) (param $lda i32) (param $ldb i32) (param $ldc i32) (param $j i32)
    (local $i i32) (local $rest i32) (local $pa i32) (local $pb i32) (local $pc i32) (local $k i32) ${locals}
    (block $blocks_done
      (loop $blocks
        (br_if $blocks_done (i32.gt_u (i32.add (local.get $i) (i32.const ${ROWS})) (local.get $m)))
        (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda))))
        (local.set $pb (i32.add (local.get $b) (local.get $j)))
        (local.set $pc (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc)) (local.get $j))))
        (local.set $k (local.get $depth))
        ${zero}${code}
        (local.set $i (i32.add (local.get $i) (i32.const ${ROWS})))
        (br $blocks)))
    (local.set $rest (i32.sub (local.get $m) (local.get $i)))${
    Array.from({ length: ROWS - 1 }, (_, r) => `
    (if (i32.eq (local.get $rest) (i32.const ${r + 1})) (then ${call(r + 1)}))`).join("")
  })`;
}

/**
 * The kernel in WebAssembly text over an imported memory, byte addresses and counts as i32,
 * matrices row-major: gemm(a, b, c, m, n, k) writes C (m×n) = A (m×k)·B (k×n), for k ≥ 1.
 */
export const GEMM_WAT = `(module
  (import "env" "memory" (memory 0))${
  Array.from({ length: ROWS - 1 }, (_, r) => blockText(r + 1, 2) + blockText(r + 1, 1)).join("")
}${rowsText(2)}${rowsText(1)}
  (func $dot (param $pa i32) (param $pb i32) (param $k i32) (param $ldb i32) (result f32)
    (local $s f32)
    (loop $k
      (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $pa)) (f32.load (local.get $pb)))))
      (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
      (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
      (br_if $k (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
    (local.get $s))
  (func (export "madd") (param $a f32) (param $b f32) (param $c f32) (result f32)
    (f32x4.extract_lane 0 (f32x4.relaxed_madd (f32x4.splat (local.get $a)) (f32x4.splat (local.get $b)) (f32x4.splat (local.get $c)))))
  (func (export "gemm") (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32) (param $k i32) (param $ldbElems i32)
    (local $lda i32) (local $ldb i32) (local $ldc i32) (local $j i32) (local $end i32) (local $i i32)
    (local.set $lda (i32.shl (local.get $k) (i32.const 2)))
    (local.set $ldb (i32.shl (local.get $ldbElems) (i32.const 2)))
    (local.set $ldc (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2)))
    (block $wide_done
      (loop $wide
        (br_if $wide_done (i32.ge_u (local.get $j) (local.get $end)))
        (call $rows_2 (local.get $a) (local.get $b) (local.get $c) (local.get $m) (local.get $k) (local.get $lda) (local.get $ldb) (local.get $ldc) (local.get $j))
        (local.set $j (i32.add (local.get $j) (i32.const 32)))
        (br $wide)))
    (if (i32.ge_u (i32.sub (local.get $ldc) (local.get $j)) (i32.const 16))
      (then
        (call $rows_1 (local.get $a) (local.get $b) (local.get $c) (local.get $m) (local.get $k) (local.get $lda) (local.get $ldb) (local.get $ldc) (local.get $j))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))))
    (if (i32.and (i32.lt_u (local.get $j) (local.get $ldc)) (i32.ge_u (local.get $ldc) (i32.const 16)))
      (then
        (call $rows_1 (local.get $a) (local.get $b) (local.get $c) (local.get $m) (local.get $k) (local.get $lda) (local.get $ldb) (local.get $ldc) (i32.sub (local.get $ldc) (i32.const 16)))
        (local.set $j (local.get $ldc))))
    (block $cols_done
      (loop $cols
        (br_if $cols_done (i32.ge_u (local.get $j) (local.get $ldc)))
        (local.set $i (i32.const 0))
        (block $col_done
          (loop $col
            (br_if $col_done (i32.ge_u (local.get $i) (local.get $m)))
            (f32.store (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc)) (local.get $j)))
              (call $dot (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda)))
                (i32.add (local.get $b) (local.get $j)) (local.get $k) (local.get $ldb)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $col)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $cols))))
)
`;

/** `GEMM_WAT` compiled by wabt (parseWat with SIMD and relaxed SIMD, toBinary), base64. */
export const GEMM_WASM =
  "AGFzbQEAAAABJgRgB39/f39/f38AYAl/f39/f39/f38AYAR/f39/AX1gA319fQF9Ag8BA2VudgZtZW1vcnkCAAADEA8AAAAAAAAAAAAAAQECAwAHDwIEbWFkZAANBGdlbW0ADgrnUQ+eAwMBfwV7BX8gACEHIAEgBWohDyAPIAVqIRAgECAFaiERIAVBBGwhDSADQQNxIQ4CQANAIA5FDQEgAf0ABAAhCiAB/QAEECELIAf9CQIAIQwgDCAKIAj9hQIhCCAMIAsgCf2FAiEJIAdBBGohByABIAVqIQEgDyAFaiEPIBAgBWohECARIAVqIREgDkEBayEODAALCyADQQJ2IQMgAwRAA0AgAf0ABAAhCiAB/QAEECELIAf9CQIAIQwgDCAKIAj9hQIhCCAMIAsgCf2FAiEJIA/9AAQAIQogD/0ABBAhCyAH/QkCBCEMIAwgCiAI/YUCIQggDCALIAn9hQIhCSAQ/QAEACEKIBD9AAQQIQsgB/0JAgghDCAMIAogCP2FAiEIIAwgCyAJ/YUCIQkgEf0ABAAhCiAR/QAEECELIAf9CQIMIQwgDCAKIAj9hQIhCCAMIAsgCf2FAiEJIAdBEGohByABIA1qIQEgDyANaiEPIBAgDWohECARIA1qIREgA0EBayIDDQALCyACIAj9CwQAIAIgCf0LBBAgAiAGaiECC7cCAwF/A3sFfyAAIQcgASAFaiENIA0gBWohDiAOIAVqIQ8gBUEEbCELIANBA3EhDAJAA0AgDEUNASAB/QAEACEJIAf9CQIAIQogCiAJIAj9hQIhCCAHQQRqIQcgASAFaiEBIA0gBWohDSAOIAVqIQ4gDyAFaiEPIAxBAWshDAwACwsgA0ECdiEDIAMEQANAIAH9AAQAIQkgB/0JAgAhCiAKIAkgCP2FAiEIIA39AAQAIQkgB/0JAgQhCiAKIAkgCP2FAiEIIA79AAQAIQkgB/0JAgghCiAKIAkgCP2FAiEIIA/9AAQAIQkgB/0JAgwhCiAKIAkgCP2FAiEIIAdBEGohByABIAtqIQEgDSALaiENIA4gC2ohDiAPIAtqIQ8gA0EBayIDDQALCyACIAj9CwQAIAIgBmohAgvgBAMCfwd7BX8gACEHIAcgBGohCCABIAVqIRIgEiAFaiETIBMgBWohFCAFQQRsIRAgA0EDcSERAkADQCARRQ0BIAH9AAQAIQ0gAf0ABBAhDiAH/QkCACEPIA8gDSAJ/YUCIQkgDyAOIAr9hQIhCiAI/QkCACEPIA8gDSAL/YUCIQsgDyAOIAz9hQIhDCAHQQRqIQcgCEEEaiEIIAEgBWohASASIAVqIRIgEyAFaiETIBQgBWohFCARQQFrIREMAAsLIANBAnYhAyADBEADQCAB/QAEACENIAH9AAQQIQ4gB/0JAgAhDyAPIA0gCf2FAiEJIA8gDiAK/YUCIQogCP0JAgAhDyAPIA0gC/2FAiELIA8gDiAM/YUCIQwgEv0ABAAhDSAS/QAEECEOIAf9CQIEIQ8gDyANIAn9hQIhCSAPIA4gCv2FAiEKIAj9CQIEIQ8gDyANIAv9hQIhCyAPIA4gDP2FAiEMIBP9AAQAIQ0gE/0ABBAhDiAH/QkCCCEPIA8gDSAJ/YUCIQkgDyAOIAr9hQIhCiAI/QkCCCEPIA8gDSAL/YUCIQsgDyAOIAz9hQIhDCAU/QAEACENIBT9AAQQIQ4gB/0JAgwhDyAPIA0gCf2FAiEJIA8gDiAK/YUCIQogCP0JAgwhDyAPIA0gC/2FAiELIA8gDiAM/YUCIQwgB0EQaiEHIAhBEGohCCABIBBqIQEgEiAQaiESIBMgEGohEyAUIBBqIRQgA0EBayIDDQALCyACIAn9CwQAIAIgCv0LBBAgAiAGaiECIAIgC/0LBAAgAiAM/QsEECACIAZqIQILugMDAn8EewV/IAAhByAHIARqIQggASAFaiEPIA8gBWohECAQIAVqIREgBUEEbCENIANBA3EhDgJAA0AgDkUNASAB/QAEACELIAf9CQIAIQwgDCALIAn9hQIhCSAI/QkCACEMIAwgCyAK/YUCIQogB0EEaiEHIAhBBGohCCABIAVqIQEgDyAFaiEPIBAgBWohECARIAVqIREgDkEBayEODAALCyADQQJ2IQMgAwRAA0AgAf0ABAAhCyAH/QkCACEMIAwgCyAJ/YUCIQkgCP0JAgAhDCAMIAsgCv2FAiEKIA/9AAQAIQsgB/0JAgQhDCAMIAsgCf2FAiEJIAj9CQIEIQwgDCALIAr9hQIhCiAQ/QAEACELIAf9CQIIIQwgDCALIAn9hQIhCSAI/QkCCCEMIAwgCyAK/YUCIQogEf0ABAAhCyAH/QkCDCEMIAwgCyAJ/YUCIQkgCP0JAgwhDCAMIAsgCv2FAiEKIAdBEGohByAIQRBqIQggASANaiEBIA8gDWohDyAQIA1qIRAgESANaiERIANBAWsiAw0ACwsgAiAJ/QsEACACIAZqIQIgAiAK/QsEACACIAZqIQILogYDA38JewV/IAAhByAHIARqIQggCCAEaiEJIAEgBWohFSAVIAVqIRYgFiAFaiEXIAVBBGwhEyADQQNxIRQCQANAIBRFDQEgAf0ABAAhECAB/QAEECERIAf9CQIAIRIgEiAQIAr9hQIhCiASIBEgC/2FAiELIAj9CQIAIRIgEiAQIAz9hQIhDCASIBEgDf2FAiENIAn9CQIAIRIgEiAQIA79hQIhDiASIBEgD/2FAiEPIAdBBGohByAIQQRqIQggCUEEaiEJIAEgBWohASAVIAVqIRUgFiAFaiEWIBcgBWohFyAUQQFrIRQMAAsLIANBAnYhAyADBEADQCAB/QAEACEQIAH9AAQQIREgB/0JAgAhEiASIBAgCv2FAiEKIBIgESAL/YUCIQsgCP0JAgAhEiASIBAgDP2FAiEMIBIgESAN/YUCIQ0gCf0JAgAhEiASIBAgDv2FAiEOIBIgESAP/YUCIQ8gFf0ABAAhECAV/QAEECERIAf9CQIEIRIgEiAQIAr9hQIhCiASIBEgC/2FAiELIAj9CQIEIRIgEiAQIAz9hQIhDCASIBEgDf2FAiENIAn9CQIEIRIgEiAQIA79hQIhDiASIBEgD/2FAiEPIBb9AAQAIRAgFv0ABBAhESAH/QkCCCESIBIgECAK/YUCIQogEiARIAv9hQIhCyAI/QkCCCESIBIgECAM/YUCIQwgEiARIA39hQIhDSAJ/QkCCCESIBIgECAO/YUCIQ4gEiARIA/9hQIhDyAX/QAEACEQIBf9AAQQIREgB/0JAgwhEiASIBAgCv2FAiEKIBIgESAL/YUCIQsgCP0JAgwhEiASIBAgDP2FAiEMIBIgESAN/YUCIQ0gCf0JAgwhEiASIBAgDv2FAiEOIBIgESAP/YUCIQ8gB0EQaiEHIAhBEGohCCAJQRBqIQkgASATaiEBIBUgE2ohFSAWIBNqIRYgFyATaiEXIANBAWsiAw0ACwsgAiAK/QsEACACIAv9CwQQIAIgBmohAiACIAz9CwQAIAIgDf0LBBAgAiAGaiECIAIgDv0LBAAgAiAP/QsEECACIAZqIQILvQQDA38FewV/IAAhByAHIARqIQggCCAEaiEJIAEgBWohESARIAVqIRIgEiAFaiETIAVBBGwhDyADQQNxIRACQANAIBBFDQEgAf0ABAAhDSAH/QkCACEOIA4gDSAK/YUCIQogCP0JAgAhDiAOIA0gC/2FAiELIAn9CQIAIQ4gDiANIAz9hQIhDCAHQQRqIQcgCEEEaiEIIAlBBGohCSABIAVqIQEgESAFaiERIBIgBWohEiATIAVqIRMgEEEBayEQDAALCyADQQJ2IQMgAwRAA0AgAf0ABAAhDSAH/QkCACEOIA4gDSAK/YUCIQogCP0JAgAhDiAOIA0gC/2FAiELIAn9CQIAIQ4gDiANIAz9hQIhDCAR/QAEACENIAf9CQIEIQ4gDiANIAr9hQIhCiAI/QkCBCEOIA4gDSAL/YUCIQsgCf0JAgQhDiAOIA0gDP2FAiEMIBL9AAQAIQ0gB/0JAgghDiAOIA0gCv2FAiEKIAj9CQIIIQ4gDiANIAv9hQIhCyAJ/QkCCCEOIA4gDSAM/YUCIQwgE/0ABAAhDSAH/QkCDCEOIA4gDSAK/YUCIQogCP0JAgwhDiAOIA0gC/2FAiELIAn9CQIMIQ4gDiANIAz9hQIhDCAHQRBqIQcgCEEQaiEIIAlBEGohCSABIA9qIQEgESAPaiERIBIgD2ohEiATIA9qIRMgA0EBayIDDQALCyACIAr9CwQAIAIgBmohAiACIAv9CwQAIAIgBmohAiACIAz9CwQAIAIgBmohAgvkBwMEfwt7BX8gACEHIAcgBGohCCAIIARqIQkgCSAEaiEKIAEgBWohGCAYIAVqIRkgGSAFaiEaIAVBBGwhFiADQQNxIRcCQANAIBdFDQEgAf0ABAAhEyAB/QAEECEUIAf9CQIAIRUgFSATIAv9hQIhCyAVIBQgDP2FAiEMIAj9CQIAIRUgFSATIA39hQIhDSAVIBQgDv2FAiEOIAn9CQIAIRUgFSATIA/9hQIhDyAVIBQgEP2FAiEQIAr9CQIAIRUgFSATIBH9hQIhESAVIBQgEv2FAiESIAdBBGohByAIQQRqIQggCUEEaiEJIApBBGohCiABIAVqIQEgGCAFaiEYIBkgBWohGSAaIAVqIRogF0EBayEXDAALCyADQQJ2IQMgAwRAA0AgAf0ABAAhEyAB/QAEECEUIAf9CQIAIRUgFSATIAv9hQIhCyAVIBQgDP2FAiEMIAj9CQIAIRUgFSATIA39hQIhDSAVIBQgDv2FAiEOIAn9CQIAIRUgFSATIA/9hQIhDyAVIBQgEP2FAiEQIAr9CQIAIRUgFSATIBH9hQIhESAVIBQgEv2FAiESIBj9AAQAIRMgGP0ABBAhFCAH/QkCBCEVIBUgEyAL/YUCIQsgFSAUIAz9hQIhDCAI/QkCBCEVIBUgEyAN/YUCIQ0gFSAUIA79hQIhDiAJ/QkCBCEVIBUgEyAP/YUCIQ8gFSAUIBD9hQIhECAK/QkCBCEVIBUgEyAR/YUCIREgFSAUIBL9hQIhEiAZ/QAEACETIBn9AAQQIRQgB/0JAgghFSAVIBMgC/2FAiELIBUgFCAM/YUCIQwgCP0JAgghFSAVIBMgDf2FAiENIBUgFCAO/YUCIQ4gCf0JAgghFSAVIBMgD/2FAiEPIBUgFCAQ/YUCIRAgCv0JAgghFSAVIBMgEf2FAiERIBUgFCAS/YUCIRIgGv0ABAAhEyAa/QAEECEUIAf9CQIMIRUgFSATIAv9hQIhCyAVIBQgDP2FAiEMIAj9CQIMIRUgFSATIA39hQIhDSAVIBQgDv2FAiEOIAn9CQIMIRUgFSATIA/9hQIhDyAVIBQgEP2FAiEQIAr9CQIMIRUgFSATIBH9hQIhESAVIBQgEv2FAiESIAdBEGohByAIQRBqIQggCUEQaiEJIApBEGohCiABIBZqIQEgGCAWaiEYIBkgFmohGSAaIBZqIRogA0EBayIDDQALCyACIAv9CwQAIAIgDP0LBBAgAiAGaiECIAIgDf0LBAAgAiAO/QsEECACIAZqIQIgAiAP/QsEACACIBD9CwQQIAIgBmohAiACIBH9CwQAIAIgEv0LBBAgAiAGaiECC8AFAwR/BnsFfyAAIQcgByAEaiEIIAggBGohCSAJIARqIQogASAFaiETIBMgBWohFCAUIAVqIRUgBUEEbCERIANBA3EhEgJAA0AgEkUNASAB/QAEACEPIAf9CQIAIRAgECAPIAv9hQIhCyAI/QkCACEQIBAgDyAM/YUCIQwgCf0JAgAhECAQIA8gDf2FAiENIAr9CQIAIRAgECAPIA79hQIhDiAHQQRqIQcgCEEEaiEIIAlBBGohCSAKQQRqIQogASAFaiEBIBMgBWohEyAUIAVqIRQgFSAFaiEVIBJBAWshEgwACwsgA0ECdiEDIAMEQANAIAH9AAQAIQ8gB/0JAgAhECAQIA8gC/2FAiELIAj9CQIAIRAgECAPIAz9hQIhDCAJ/QkCACEQIBAgDyAN/YUCIQ0gCv0JAgAhECAQIA8gDv2FAiEOIBP9AAQAIQ8gB/0JAgQhECAQIA8gC/2FAiELIAj9CQIEIRAgECAPIAz9hQIhDCAJ/QkCBCEQIBAgDyAN/YUCIQ0gCv0JAgQhECAQIA8gDv2FAiEOIBT9AAQAIQ8gB/0JAgghECAQIA8gC/2FAiELIAj9CQIIIRAgECAPIAz9hQIhDCAJ/QkCCCEQIBAgDyAN/YUCIQ0gCv0JAgghECAQIA8gDv2FAiEOIBX9AAQAIQ8gB/0JAgwhECAQIA8gC/2FAiELIAj9CQIMIRAgECAPIAz9hQIhDCAJ/QkCDCEQIBAgDyAN/YUCIQ0gCv0JAgwhECAQIA8gDv2FAiEOIAdBEGohByAIQRBqIQggCUEQaiEJIApBEGohCiABIBFqIQEgEyARaiETIBQgEWohFCAVIBFqIRUgA0EBayIDDQALCyACIAv9CwQAIAIgBmohAiACIAz9CwQAIAIgBmohAiACIA39CwQAIAIgBmohAiACIA79CwQAIAIgBmohAgumCQMFfw17BX8gACEHIAcgBGohCCAIIARqIQkgCSAEaiEKIAogBGohCyABIAVqIRsgGyAFaiEcIBwgBWohHSAFQQRsIRkgA0EDcSEaAkADQCAaRQ0BIAH9AAQAIRYgAf0ABBAhFyAH/QkCACEYIBggFiAM/YUCIQwgGCAXIA39hQIhDSAI/QkCACEYIBggFiAO/YUCIQ4gGCAXIA/9hQIhDyAJ/QkCACEYIBggFiAQ/YUCIRAgGCAXIBH9hQIhESAK/QkCACEYIBggFiAS/YUCIRIgGCAXIBP9hQIhEyAL/QkCACEYIBggFiAU/YUCIRQgGCAXIBX9hQIhFSAHQQRqIQcgCEEEaiEIIAlBBGohCSAKQQRqIQogC0EEaiELIAEgBWohASAbIAVqIRsgHCAFaiEcIB0gBWohHSAaQQFrIRoMAAsLIANBAnYhAyADBEADQCAB/QAEACEWIAH9AAQQIRcgB/0JAgAhGCAYIBYgDP2FAiEMIBggFyAN/YUCIQ0gCP0JAgAhGCAYIBYgDv2FAiEOIBggFyAP/YUCIQ8gCf0JAgAhGCAYIBYgEP2FAiEQIBggFyAR/YUCIREgCv0JAgAhGCAYIBYgEv2FAiESIBggFyAT/YUCIRMgC/0JAgAhGCAYIBYgFP2FAiEUIBggFyAV/YUCIRUgG/0ABAAhFiAb/QAEECEXIAf9CQIEIRggGCAWIAz9hQIhDCAYIBcgDf2FAiENIAj9CQIEIRggGCAWIA79hQIhDiAYIBcgD/2FAiEPIAn9CQIEIRggGCAWIBD9hQIhECAYIBcgEf2FAiERIAr9CQIEIRggGCAWIBL9hQIhEiAYIBcgE/2FAiETIAv9CQIEIRggGCAWIBT9hQIhFCAYIBcgFf2FAiEVIBz9AAQAIRYgHP0ABBAhFyAH/QkCCCEYIBggFiAM/YUCIQwgGCAXIA39hQIhDSAI/QkCCCEYIBggFiAO/YUCIQ4gGCAXIA/9hQIhDyAJ/QkCCCEYIBggFiAQ/YUCIRAgGCAXIBH9hQIhESAK/QkCCCEYIBggFiAS/YUCIRIgGCAXIBP9hQIhEyAL/QkCCCEYIBggFiAU/YUCIRQgGCAXIBX9hQIhFSAd/QAEACEWIB39AAQQIRcgB/0JAgwhGCAYIBYgDP2FAiEMIBggFyAN/YUCIQ0gCP0JAgwhGCAYIBYgDv2FAiEOIBggFyAP/YUCIQ8gCf0JAgwhGCAYIBYgEP2FAiEQIBggFyAR/YUCIREgCv0JAgwhGCAYIBYgEv2FAiESIBggFyAT/YUCIRMgC/0JAgwhGCAYIBYgFP2FAiEUIBggFyAV/YUCIRUgB0EQaiEHIAhBEGohCCAJQRBqIQkgCkEQaiEKIAtBEGohCyABIBlqIQEgGyAZaiEbIBwgGWohHCAdIBlqIR0gA0EBayIDDQALCyACIAz9CwQAIAIgDf0LBBAgAiAGaiECIAIgDv0LBAAgAiAP/QsEECACIAZqIQIgAiAQ/QsEACACIBH9CwQQIAIgBmohAiACIBL9CwQAIAIgE/0LBBAgAiAGaiECIAIgFP0LBAAgAiAV/QsEECACIAZqIQILwwYDBX8HewV/IAAhByAHIARqIQggCCAEaiEJIAkgBGohCiAKIARqIQsgASAFaiEVIBUgBWohFiAWIAVqIRcgBUEEbCETIANBA3EhFAJAA0AgFEUNASAB/QAEACERIAf9CQIAIRIgEiARIAz9hQIhDCAI/QkCACESIBIgESAN/YUCIQ0gCf0JAgAhEiASIBEgDv2FAiEOIAr9CQIAIRIgEiARIA/9hQIhDyAL/QkCACESIBIgESAQ/YUCIRAgB0EEaiEHIAhBBGohCCAJQQRqIQkgCkEEaiEKIAtBBGohCyABIAVqIQEgFSAFaiEVIBYgBWohFiAXIAVqIRcgFEEBayEUDAALCyADQQJ2IQMgAwRAA0AgAf0ABAAhESAH/QkCACESIBIgESAM/YUCIQwgCP0JAgAhEiASIBEgDf2FAiENIAn9CQIAIRIgEiARIA79hQIhDiAK/QkCACESIBIgESAP/YUCIQ8gC/0JAgAhEiASIBEgEP2FAiEQIBX9AAQAIREgB/0JAgQhEiASIBEgDP2FAiEMIAj9CQIEIRIgEiARIA39hQIhDSAJ/QkCBCESIBIgESAO/YUCIQ4gCv0JAgQhEiASIBEgD/2FAiEPIAv9CQIEIRIgEiARIBD9hQIhECAW/QAEACERIAf9CQIIIRIgEiARIAz9hQIhDCAI/QkCCCESIBIgESAN/YUCIQ0gCf0JAgghEiASIBEgDv2FAiEOIAr9CQIIIRIgEiARIA/9hQIhDyAL/QkCCCESIBIgESAQ/YUCIRAgF/0ABAAhESAH/QkCDCESIBIgESAM/YUCIQwgCP0JAgwhEiASIBEgDf2FAiENIAn9CQIMIRIgEiARIA79hQIhDiAK/QkCDCESIBIgESAP/YUCIQ8gC/0JAgwhEiASIBEgEP2FAiEQIAdBEGohByAIQRBqIQggCUEQaiEJIApBEGohCiALQRBqIQsgASATaiEBIBUgE2ohFSAWIBNqIRYgFyATaiEXIANBAWsiAw0ACwsgAiAM/QsEACACIAZqIQIgAiAN/QsEACACIAZqIQIgAiAO/QsEACACIAZqIQIgAiAP/QsEACACIAZqIQIgAiAQ/QsEACACIAZqIQIL7A4DDH8PewV/AkADQCAJQQZqIANLDQEgACAJIAVsaiELIAEgCGohDCACIAkgB2wgCGpqIQ0gBCEO/QwAAAAAAAAAAAAAAAAAAAAAIRX9DAAAAAAAAAAAAAAAAAAAAAAhFv0MAAAAAAAAAAAAAAAAAAAAACEX/QwAAAAAAAAAAAAAAAAAAAAAIRj9DAAAAAAAAAAAAAAAAAAAAAAhGf0MAAAAAAAAAAAAAAAAAAAAACEa/QwAAAAAAAAAAAAAAAAAAAAAIRv9DAAAAAAAAAAAAAAAAAAAAAAhHP0MAAAAAAAAAAAAAAAAAAAAACEd/QwAAAAAAAAAAAAAAAAAAAAAIR79DAAAAAAAAAAAAAAAAAAAAAAhH/0MAAAAAAAAAAAAAAAAAAAAACEgIAshDyAPIAVqIRAgECAFaiERIBEgBWohEiASIAVqIRMgEyAFaiEUIAwgBmohJiAmIAZqIScgJyAGaiEoIAZBBGwhJCAOQQNxISUCQANAICVFDQEgDP0ABAAhISAM/QAEECEiIA/9CQIAISMgIyAhIBX9hQIhFSAjICIgFv2FAiEWIBD9CQIAISMgIyAhIBf9hQIhFyAjICIgGP2FAiEYIBH9CQIAISMgIyAhIBn9hQIhGSAjICIgGv2FAiEaIBL9CQIAISMgIyAhIBv9hQIhGyAjICIgHP2FAiEcIBP9CQIAISMgIyAhIB39hQIhHSAjICIgHv2FAiEeIBT9CQIAISMgIyAhIB/9hQIhHyAjICIgIP2FAiEgIA9BBGohDyAQQQRqIRAgEUEEaiERIBJBBGohEiATQQRqIRMgFEEEaiEUIAwgBmohDCAmIAZqISYgJyAGaiEnICggBmohKCAlQQFrISUMAAsLIA5BAnYhDiAOBEADQCAM/QAEACEhIAz9AAQQISIgD/0JAgAhIyAjICEgFf2FAiEVICMgIiAW/YUCIRYgEP0JAgAhIyAjICEgF/2FAiEXICMgIiAY/YUCIRggEf0JAgAhIyAjICEgGf2FAiEZICMgIiAa/YUCIRogEv0JAgAhIyAjICEgG/2FAiEbICMgIiAc/YUCIRwgE/0JAgAhIyAjICEgHf2FAiEdICMgIiAe/YUCIR4gFP0JAgAhIyAjICEgH/2FAiEfICMgIiAg/YUCISAgJv0ABAAhISAm/QAEECEiIA/9CQIEISMgIyAhIBX9hQIhFSAjICIgFv2FAiEWIBD9CQIEISMgIyAhIBf9hQIhFyAjICIgGP2FAiEYIBH9CQIEISMgIyAhIBn9hQIhGSAjICIgGv2FAiEaIBL9CQIEISMgIyAhIBv9hQIhGyAjICIgHP2FAiEcIBP9CQIEISMgIyAhIB39hQIhHSAjICIgHv2FAiEeIBT9CQIEISMgIyAhIB/9hQIhHyAjICIgIP2FAiEgICf9AAQAISEgJ/0ABBAhIiAP/QkCCCEjICMgISAV/YUCIRUgIyAiIBb9hQIhFiAQ/QkCCCEjICMgISAX/YUCIRcgIyAiIBj9hQIhGCAR/QkCCCEjICMgISAZ/YUCIRkgIyAiIBr9hQIhGiAS/QkCCCEjICMgISAb/YUCIRsgIyAiIBz9hQIhHCAT/QkCCCEjICMgISAd/YUCIR0gIyAiIB79hQIhHiAU/QkCCCEjICMgISAf/YUCIR8gIyAiICD9hQIhICAo/QAEACEhICj9AAQQISIgD/0JAgwhIyAjICEgFf2FAiEVICMgIiAW/YUCIRYgEP0JAgwhIyAjICEgF/2FAiEXICMgIiAY/YUCIRggEf0JAgwhIyAjICEgGf2FAiEZICMgIiAa/YUCIRogEv0JAgwhIyAjICEgG/2FAiEbICMgIiAc/YUCIRwgE/0JAgwhIyAjICEgHf2FAiEdICMgIiAe/YUCIR4gFP0JAgwhIyAjICEgH/2FAiEfICMgIiAg/YUCISAgD0EQaiEPIBBBEGohECARQRBqIREgEkEQaiESIBNBEGohEyAUQRBqIRQgDCAkaiEMICYgJGohJiAnICRqIScgKCAkaiEoIA5BAWsiDg0ACwsgDSAV/QsEACANIBb9CwQQIA0gB2ohDSANIBf9CwQAIA0gGP0LBBAgDSAHaiENIA0gGf0LBAAgDSAa/QsEECANIAdqIQ0gDSAb/QsEACANIBz9CwQQIA0gB2ohDSANIB39CwQAIA0gHv0LBBAgDSAHaiENIA0gH/0LBAAgDSAg/QsEECANIAdqIQ0gCUEGaiEJDAALCyADIAlrIQogCkEBRgRAIAAgCSAFbGogASAIaiACIAkgB2wgCGpqIAQgBSAGIAcQAAsgCkECRgRAIAAgCSAFbGogASAIaiACIAkgB2wgCGpqIAQgBSAGIAcQAgsgCkEDRgRAIAAgCSAFbGogASAIaiACIAkgB2wgCGpqIAQgBSAGIAcQBAsgCkEERgRAIAAgCSAFbGogASAIaiACIAkgB2wgCGpqIAQgBSAGIAcQBgsgCkEFRgRAIAAgCSAFbGogASAIaiACIAkgB2wgCGpqIAQgBSAGIAcQCAsL0goDDH8IewV/AkADQCAJQQZqIANLDQEgACAJIAVsaiELIAEgCGohDCACIAkgB2wgCGpqIQ0gBCEO/QwAAAAAAAAAAAAAAAAAAAAAIRX9DAAAAAAAAAAAAAAAAAAAAAAhFv0MAAAAAAAAAAAAAAAAAAAAACEX/QwAAAAAAAAAAAAAAAAAAAAAIRj9DAAAAAAAAAAAAAAAAAAAAAAhGf0MAAAAAAAAAAAAAAAAAAAAACEaIAshDyAPIAVqIRAgECAFaiERIBEgBWohEiASIAVqIRMgEyAFaiEUIAwgBmohHyAfIAZqISAgICAGaiEhIAZBBGwhHSAOQQNxIR4CQANAIB5FDQEgDP0ABAAhGyAP/QkCACEcIBwgGyAV/YUCIRUgEP0JAgAhHCAcIBsgFv2FAiEWIBH9CQIAIRwgHCAbIBf9hQIhFyAS/QkCACEcIBwgGyAY/YUCIRggE/0JAgAhHCAcIBsgGf2FAiEZIBT9CQIAIRwgHCAbIBr9hQIhGiAPQQRqIQ8gEEEEaiEQIBFBBGohESASQQRqIRIgE0EEaiETIBRBBGohFCAMIAZqIQwgHyAGaiEfICAgBmohICAhIAZqISEgHkEBayEeDAALCyAOQQJ2IQ4gDgRAA0AgDP0ABAAhGyAP/QkCACEcIBwgGyAV/YUCIRUgEP0JAgAhHCAcIBsgFv2FAiEWIBH9CQIAIRwgHCAbIBf9hQIhFyAS/QkCACEcIBwgGyAY/YUCIRggE/0JAgAhHCAcIBsgGf2FAiEZIBT9CQIAIRwgHCAbIBr9hQIhGiAf/QAEACEbIA/9CQIEIRwgHCAbIBX9hQIhFSAQ/QkCBCEcIBwgGyAW/YUCIRYgEf0JAgQhHCAcIBsgF/2FAiEXIBL9CQIEIRwgHCAbIBj9hQIhGCAT/QkCBCEcIBwgGyAZ/YUCIRkgFP0JAgQhHCAcIBsgGv2FAiEaICD9AAQAIRsgD/0JAgghHCAcIBsgFf2FAiEVIBD9CQIIIRwgHCAbIBb9hQIhFiAR/QkCCCEcIBwgGyAX/YUCIRcgEv0JAgghHCAcIBsgGP2FAiEYIBP9CQIIIRwgHCAbIBn9hQIhGSAU/QkCCCEcIBwgGyAa/YUCIRogIf0ABAAhGyAP/QkCDCEcIBwgGyAV/YUCIRUgEP0JAgwhHCAcIBsgFv2FAiEWIBH9CQIMIRwgHCAbIBf9hQIhFyAS/QkCDCEcIBwgGyAY/YUCIRggE/0JAgwhHCAcIBsgGf2FAiEZIBT9CQIMIRwgHCAbIBr9hQIhGiAPQRBqIQ8gEEEQaiEQIBFBEGohESASQRBqIRIgE0EQaiETIBRBEGohFCAMIB1qIQwgHyAdaiEfICAgHWohICAhIB1qISEgDkEBayIODQALCyANIBX9CwQAIA0gB2ohDSANIBb9CwQAIA0gB2ohDSANIBf9CwQAIA0gB2ohDSANIBj9CwQAIA0gB2ohDSANIBn9CwQAIA0gB2ohDSANIBr9CwQAIA0gB2ohDSAJQQZqIQkMAAsLIAMgCWshCiAKQQFGBEAgACAJIAVsaiABIAhqIAIgCSAHbCAIamogBCAFIAYgBxABCyAKQQJGBEAgACAJIAVsaiABIAhqIAIgCSAHbCAIamogBCAFIAYgBxADCyAKQQNGBEAgACAJIAVsaiABIAhqIAIgCSAHbCAIamogBCAFIAYgBxAFCyAKQQRGBEAgACAJIAVsaiABIAhqIAIgCSAHbCAIamogBCAFIAYgBxAHCyAKQQVGBEAgACAJIAVsaiABIAhqIAIgCSAHbCAIamogBCAFIAYgBxAJCwswAQF9A0AgBCAAKgIAIAEqAgCUkiEEIABBBGohACABIANqIQEgAkEBayICDQALIAQLFAAgAP0TIAH9EyAC/RP9hQL9HwAL7QEBBn8gBUECdCEHIAZBAnQhCCAEQQJ0IQkgBEF4cUECdCELAkADQCAKIAtPDQEgACABIAIgAyAFIAcgCCAJIAoQCiAKQSBqIQoMAAsLIAkgCmtBEE8EQCAAIAEgAiADIAUgByAIIAkgChALIApBEGohCgsgCiAJSSAJQRBPcQRAIAAgASACIAMgBSAHIAggCSAJQRBrEAsgCSEKCwJAA0AgCiAJTw0BQQAhDAJAA0AgDCADTw0BIAIgDCAJbCAKamogACAMIAdsaiABIApqIAUgCBAMOAIAIAxBAWohDAwACwsgCkEEaiEKDAALCws=";

interface GemmExports {
  /** C (m×n, row stride n) = A (m×k, row stride k)·B (k×n, row stride ldb ≥ n). */
  gemm(a: number, b: number, c: number, m: number, n: number, k: number, ldb: number): void;
}

const gemmExports = heapModule<GemmExports>(GEMM_WASM);

/** How this engine computes the kernel's multiply-adds; see `gemmMadd`. */
export type GemmMadd = "fused" | "unfused" | "unsupported";

let madd: GemmMadd | undefined;

/**
 * Whether the engine runs the kernel (relaxed SIMD; V8 has shipped it since 2023) and whether its
 * relaxed_madd rounds once ("fused") or twice: with a = b = 1 + 2⁻¹² and c = −(1 + 2⁻¹¹), a·b + c
 * is 2⁻²⁴ rounded once and 0 rounded twice. It decides the products' last bits, so it belongs in
 * the runtime record of tfjs-wasm's results (engine/backend.ts).
 */
export function gemmMadd(): GemmMadd {
  if (madd) return madd;
  const bytes = Uint8Array.from(atob(GEMM_WASM), (c) => c.charCodeAt(0));
  if (!WebAssembly.validate(bytes)) return madd = "unsupported";
  const memory = new WebAssembly.Memory({ initial: 0 });
  const probe = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })
    .exports as unknown as { madd(a: number, b: number, c: number): number };
  const a = 1 + 2 ** -12;
  return madd = probe.madd(a, a, -(1 + 2 ** -11)) === 2 ** -24 ? "fused" : "unfused";
}

/** Whether the kernel can run: tfjs's backend is wasm and the engine has relaxed SIMD. */
export function gemmKernel(): boolean {
  return tf.getBackend() === "wasm" && gemmMadd() !== "unsupported";
}

const KERNEL = "SamGemm";

/**
 * B's row stride for the kernel: n, or n + 16 where B is first copied with padded rows. With n a
 * multiple of 512 (rows 2 KB or 4 KB apart), the eight columns a block walks down B map every k
 * step to the same few cache sets, so a panel no longer stays in L1 between the blocks of rows
 * that share it: on one 2-core AMD EPYC (Zen 5), 256×64·64×1024 ran at 36 GFLOP/s against 58 for
 * n = 1000 or 1032, and 56 when padded; the copy (k·n loads and stores) paid even for m = 6
 * (6×1024·1024×1024: 0.34 against 0.48 ms).
 */
export function strideOfB(n: number): number {
  return n % 512 === 0 ? n + 16 : n;
}

const multiply: WasmKernelBody = (inputs, _attrs, wasm) => {
  const a = inputs.a as tf.TensorInfo, b = inputs.b as tf.TensorInfo;
  const [m, k] = a.shape, n = b.shape[1];
  const out = wasm.makeOutput([m, n], "float32");
  const ldb = strideOfB(n);
  const padded = ldb === n ? undefined : wasm.makeOutput([k, ldb], "float32");
  if (padded) {
    const from = wasm.typedArrayFromHeap(b) as Float32Array;
    const to = wasm.typedArrayFromHeap(padded) as Float32Array;
    for (let r = 0; r < k; r++) to.set(from.subarray(r * n, r * n + n), r * ldb);
  }
  // Addresses taken after the allocations (which may grow the heap, never move a tensor).
  const at = (t: tf.TensorInfo) => heapAddress(wasm, t);
  if (k === 0) wasm.typedArrayFromHeap(out).fill(0);
  else if (m > 0 && n > 0) gemmExports(wasm).gemm(at(a), at(padded ?? b), at(out), m, n, k, ldb);
  if (padded) wasm.disposeData(padded.dataId);
  return out;
};

/**
 * a·b for float32 matrices a (m×k) and b (k×n) by the kernel, on tfjs-wasm where `gemmKernel()`.
 * Not differentiable (for hand-written gradients).
 */
export function gemm(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (a.shape[1] !== b.shape[0] || a.dtype !== "float32" || b.dtype !== "float32") {
    throw new RangeError(
      `gemm of ${a.dtype} ${a.shape.join("×")} and ${b.dtype} ${b.shape.join("×")} matrices`,
    );
  }
  if (!gemmKernel()) throw new Error("gemm: needs tfjs-wasm and WebAssembly relaxed SIMD");
  ensureWasmKernel(KERNEL, multiply);
  return tf.engine().runKernel(KERNEL, { a, b }, {}) as tf.Tensor2D;
}
