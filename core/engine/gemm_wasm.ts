/**
 * Float32 matrix products C = A·B on tfjs-wasm's heap by a WebAssembly kernel of the project's that
 * uses relaxed SIMD's fused multiply-add (`f32x4.relaxed_madd`). tfjs-backend-wasm 4.22's matMul
 * runs XNNPACK built for 128-bit SIMD without FMA (a multiply and an add per four lanes), near
 * 25–28 GFLOP/s on one core of this project's machines; with the FMA the same 128-bit lanes reach
 * 43–48 GFLOP/s on the MLP's shapes (measured, 256×64·64×1024 and 256×1024·1024×64).
 *
 * Blocks of 6 rows × 8 columns of C (twelve v128 accumulators, the most x64's sixteen vector
 * registers hold beside two of B's vectors and one of A's values), the 8 columns walking B's rows
 * in place: packing B's panels did not pay (measured: 0.76 against 0.74 ms). The last m mod 6 rows
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
 * The locals and code of a block: C[R rows, 4V columns] = A[R rows, k]·B[k, 4V columns] at byte
 * addresses $pa, $pb, $pc, with row strides $lda (A) and $ldb (B and C) in bytes, for $k ≥ 1
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
    "(local $s v128)",
  ].join(" ");
  const lines: string[] = ["(local.set $a0 (local.get $pa))"];
  for (let r = 1; r < rows; r++) {
    lines.push(`(local.set $a${r} (i32.add (local.get $a${r - 1}) (local.get $lda)))`);
  }
  const step: string[] = [];
  for (let v = 0; v < vectors; v++) {
    step.push(`(local.set $b${v} (v128.load offset=${16 * v} (local.get $pb)))`);
  }
  for (let r = 0; r < rows; r++) {
    step.push(`(local.set $s (v128.load32_splat (local.get $a${r})))`);
    for (let v = 0; v < vectors; v++) {
      step.push(
        `(local.set ${acc(r, v)} (f32x4.relaxed_madd (local.get $s) (local.get $b${v}) (local.get ${
          acc(r, v)
        })))`,
      );
    }
    step.push(`(local.set $a${r} (i32.add (local.get $a${r}) (i32.const 4)))`);
  }
  step.push("(local.set $pb (i32.add (local.get $pb) (local.get $ldb)))");
  const stores: string[] = [];
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < vectors; v++) {
      stores.push(`(v128.store offset=${16 * v} (local.get $pc) (local.get ${acc(r, v)}))`);
    }
    stores.push("(local.set $pc (i32.add (local.get $pc) (local.get $ldb)))");
  }
  const code = `
    ${lines.join("\n    ")}
    (loop $k_loop
      ${step.join("\n      ")}
      (br_if $k_loop (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
    ${stores.join("\n    ")}`;
  return { locals, code };
}

/** The text of `$block_R_V`, a function of the block's addresses, k and strides. */
function blockText(rows: number, vectors: number): string {
  const { locals, code } = blockParts(rows, vectors);
  // Locals start at zero, so the accumulators need no clearing.
  return `
  (func $block_${rows}_${vectors} (param $pa i32) (param $pb i32) (param $pc i32) (param $k i32) (param $lda i32) (param $ldb i32)
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
          (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldb)) (local.get $j)))
          (local.get $depth) (local.get $lda) (local.get $ldb))`;
  const { locals, code } = blockParts(ROWS, vectors);
  const zero = Array.from(
    { length: ROWS * vectors },
    (_, i) => `(local.set $c${Math.floor(i / vectors)}_${i % vectors} (v128.const i64x2 0 0))`,
  ).join("\n        ");
  return `
  (func $rows_${vectors} (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $depth i32) (param $lda i32) (param $ldb i32) (param $j i32)
    (local $i i32) (local $rest i32) (local $pa i32) (local $pb i32) (local $pc i32) (local $k i32) ${locals}
    (block $blocks_done
      (loop $blocks
        (br_if $blocks_done (i32.gt_u (i32.add (local.get $i) (i32.const ${ROWS})) (local.get $m)))
        (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda))))
        (local.set $pb (i32.add (local.get $b) (local.get $j)))
        (local.set $pc (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldb)) (local.get $j))))
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
  (func (export "gemm") (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32) (param $k i32)
    (local $lda i32) (local $ldb i32) (local $j i32) (local $end i32) (local $i i32)
    (local.set $lda (i32.shl (local.get $k) (i32.const 2)))
    (local.set $ldb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2)))
    (block $wide_done
      (loop $wide
        (br_if $wide_done (i32.ge_u (local.get $j) (local.get $end)))
        (call $rows_2 (local.get $a) (local.get $b) (local.get $c) (local.get $m) (local.get $k) (local.get $lda) (local.get $ldb) (local.get $j))
        (local.set $j (i32.add (local.get $j) (i32.const 32)))
        (br $wide)))
    (if (i32.ge_u (i32.sub (local.get $ldb) (local.get $j)) (i32.const 16))
      (then
        (call $rows_1 (local.get $a) (local.get $b) (local.get $c) (local.get $m) (local.get $k) (local.get $lda) (local.get $ldb) (local.get $j))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))))
    (if (i32.and (i32.lt_u (local.get $j) (local.get $ldb)) (i32.ge_u (local.get $ldb) (i32.const 16)))
      (then
        (call $rows_1 (local.get $a) (local.get $b) (local.get $c) (local.get $m) (local.get $k) (local.get $lda) (local.get $ldb) (i32.sub (local.get $ldb) (i32.const 16)))
        (local.set $j (local.get $ldb))))
    (block $cols_done
      (loop $cols
        (br_if $cols_done (i32.ge_u (local.get $j) (local.get $ldb)))
        (local.set $i (i32.const 0))
        (block $col_done
          (loop $col
            (br_if $col_done (i32.ge_u (local.get $i) (local.get $m)))
            (f32.store (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldb)) (local.get $j)))
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
  "AGFzbQEAAAABJARgBn9/f39/fwBgCH9/f39/f39/AGAEf39/fwF9YAN9fX0BfQIPAQNlbnYGbWVtb3J5AgAAAxAPAAAAAAAAAAAAAAEBAgMABw8CBG1hZGQADQRnZW1tAA4KwR8PaQIBfwV7IAAhBgNAIAH9AAQAIQkgAf0ABBAhCiAG/QkCACELIAsgCSAH/YUCIQcgCyAKIAj9hQIhCCAGQQRqIQYgASAFaiEBIANBAWsiAw0ACyACIAf9CwQAIAIgCP0LBBAgAiAFaiECC04CAX8DeyAAIQYDQCAB/QAEACEIIAb9CQIAIQkgCSAIIAf9hQIhByAGQQRqIQYgASAFaiEBIANBAWsiAw0ACyACIAf9CwQAIAIgBWohAgusAQICfwd7IAAhBiAGIARqIQcDQCAB/QAEACEMIAH9AAQQIQ0gBv0JAgAhDiAOIAwgCP2FAiEIIA4gDSAJ/YUCIQkgBkEEaiEGIAf9CQIAIQ4gDiAMIAr9hQIhCiAOIA0gC/2FAiELIAdBBGohByABIAVqIQEgA0EBayIDDQALIAIgCP0LBAAgAiAJ/QsEECACIAVqIQIgAiAK/QsEACACIAv9CwQQIAIgBWohAgt+AgJ/BHsgACEGIAYgBGohBwNAIAH9AAQAIQogBv0JAgAhCyALIAogCP2FAiEIIAZBBGohBiAH/QkCACELIAsgCiAJ/YUCIQkgB0EEaiEHIAEgBWohASADQQFrIgMNAAsgAiAI/QsEACACIAVqIQIgAiAJ/QsEACACIAVqIQIL7wECA38JeyAAIQYgBiAEaiEHIAcgBGohCANAIAH9AAQAIQ8gAf0ABBAhECAG/QkCACERIBEgDyAJ/YUCIQkgESAQIAr9hQIhCiAGQQRqIQYgB/0JAgAhESARIA8gC/2FAiELIBEgECAM/YUCIQwgB0EEaiEHIAj9CQIAIREgESAPIA39hQIhDSARIBAgDv2FAiEOIAhBBGohCCABIAVqIQEgA0EBayIDDQALIAIgCf0LBAAgAiAK/QsEECACIAVqIQIgAiAL/QsEACACIAz9CwQQIAIgBWohAiACIA39CwQAIAIgDv0LBBAgAiAFaiECC64BAgN/BXsgACEGIAYgBGohByAHIARqIQgDQCAB/QAEACEMIAb9CQIAIQ0gDSAMIAn9hQIhCSAGQQRqIQYgB/0JAgAhDSANIAwgCv2FAiEKIAdBBGohByAI/QkCACENIA0gDCAL/YUCIQsgCEEEaiEIIAEgBWohASADQQFrIgMNAAsgAiAJ/QsEACACIAVqIQIgAiAK/QsEACACIAVqIQIgAiAL/QsEACACIAVqIQILsgICBH8LeyAAIQYgBiAEaiEHIAcgBGohCCAIIARqIQkDQCAB/QAEACESIAH9AAQQIRMgBv0JAgAhFCAUIBIgCv2FAiEKIBQgEyAL/YUCIQsgBkEEaiEGIAf9CQIAIRQgFCASIAz9hQIhDCAUIBMgDf2FAiENIAdBBGohByAI/QkCACEUIBQgEiAO/YUCIQ4gFCATIA/9hQIhDyAIQQRqIQggCf0JAgAhFCAUIBIgEP2FAiEQIBQgEyAR/YUCIREgCUEEaiEJIAEgBWohASADQQFrIgMNAAsgAiAK/QsEACACIAv9CwQQIAIgBWohAiACIAz9CwQAIAIgDf0LBBAgAiAFaiECIAIgDv0LBAAgAiAP/QsEECACIAVqIQIgAiAQ/QsEACACIBH9CwQQIAIgBWohAgveAQIEfwZ7IAAhBiAGIARqIQcgByAEaiEIIAggBGohCQNAIAH9AAQAIQ4gBv0JAgAhDyAPIA4gCv2FAiEKIAZBBGohBiAH/QkCACEPIA8gDiAL/YUCIQsgB0EEaiEHIAj9CQIAIQ8gDyAOIAz9hQIhDCAIQQRqIQggCf0JAgAhDyAPIA4gDf2FAiENIAlBBGohCSABIAVqIQEgA0EBayIDDQALIAIgCv0LBAAgAiAFaiECIAIgC/0LBAAgAiAFaiECIAIgDP0LBAAgAiAFaiECIAIgDf0LBAAgAiAFaiECC/UCAgV/DXsgACEGIAYgBGohByAHIARqIQggCCAEaiEJIAkgBGohCgNAIAH9AAQAIRUgAf0ABBAhFiAG/QkCACEXIBcgFSAL/YUCIQsgFyAWIAz9hQIhDCAGQQRqIQYgB/0JAgAhFyAXIBUgDf2FAiENIBcgFiAO/YUCIQ4gB0EEaiEHIAj9CQIAIRcgFyAVIA/9hQIhDyAXIBYgEP2FAiEQIAhBBGohCCAJ/QkCACEXIBcgFSAR/YUCIREgFyAWIBL9hQIhEiAJQQRqIQkgCv0JAgAhFyAXIBUgE/2FAiETIBcgFiAU/YUCIRQgCkEEaiEKIAEgBWohASADQQFrIgMNAAsgAiAL/QsEACACIAz9CwQQIAIgBWohAiACIA39CwQAIAIgDv0LBBAgAiAFaiECIAIgD/0LBAAgAiAQ/QsEECACIAVqIQIgAiAR/QsEACACIBL9CwQQIAIgBWohAiACIBP9CwQAIAIgFP0LBBAgAiAFaiECC44CAgV/B3sgACEGIAYgBGohByAHIARqIQggCCAEaiEJIAkgBGohCgNAIAH9AAQAIRAgBv0JAgAhESARIBAgC/2FAiELIAZBBGohBiAH/QkCACERIBEgECAM/YUCIQwgB0EEaiEHIAj9CQIAIREgESAQIA39hQIhDSAIQQRqIQggCf0JAgAhESARIBAgDv2FAiEOIAlBBGohCSAK/QkCACERIBEgECAP/YUCIQ8gCkEEaiEKIAEgBWohASADQQFrIgMNAAsgAiAL/QsEACACIAVqIQIgAiAM/QsEACACIAVqIQIgAiAN/QsEACACIAVqIQIgAiAO/QsEACACIAVqIQIgAiAP/QsEACACIAVqIQILsgcCDH8PewJAA0AgCEEGaiADSw0BIAAgCCAFbGohCiABIAdqIQsgAiAIIAZsIAdqaiEMIAQhDf0MAAAAAAAAAAAAAAAAAAAAACEU/QwAAAAAAAAAAAAAAAAAAAAAIRX9DAAAAAAAAAAAAAAAAAAAAAAhFv0MAAAAAAAAAAAAAAAAAAAAACEX/QwAAAAAAAAAAAAAAAAAAAAAIRj9DAAAAAAAAAAAAAAAAAAAAAAhGf0MAAAAAAAAAAAAAAAAAAAAACEa/QwAAAAAAAAAAAAAAAAAAAAAIRv9DAAAAAAAAAAAAAAAAAAAAAAhHP0MAAAAAAAAAAAAAAAAAAAAACEd/QwAAAAAAAAAAAAAAAAAAAAAIR79DAAAAAAAAAAAAAAAAAAAAAAhHyAKIQ4gDiAFaiEPIA8gBWohECAQIAVqIREgESAFaiESIBIgBWohEwNAIAv9AAQAISAgC/0ABBAhISAO/QkCACEiICIgICAU/YUCIRQgIiAhIBX9hQIhFSAOQQRqIQ4gD/0JAgAhIiAiICAgFv2FAiEWICIgISAX/YUCIRcgD0EEaiEPIBD9CQIAISIgIiAgIBj9hQIhGCAiICEgGf2FAiEZIBBBBGohECAR/QkCACEiICIgICAa/YUCIRogIiAhIBv9hQIhGyARQQRqIREgEv0JAgAhIiAiICAgHP2FAiEcICIgISAd/YUCIR0gEkEEaiESIBP9CQIAISIgIiAgIB79hQIhHiAiICEgH/2FAiEfIBNBBGohEyALIAZqIQsgDUEBayINDQALIAwgFP0LBAAgDCAV/QsEECAMIAZqIQwgDCAW/QsEACAMIBf9CwQQIAwgBmohDCAMIBj9CwQAIAwgGf0LBBAgDCAGaiEMIAwgGv0LBAAgDCAb/QsEECAMIAZqIQwgDCAc/QsEACAMIB39CwQQIAwgBmohDCAMIB79CwQAIAwgH/0LBBAgDCAGaiEMIAhBBmohCAwACwsgAyAIayEJIAlBAUYEQCAAIAggBWxqIAEgB2ogAiAIIAZsIAdqaiAEIAUgBhAACyAJQQJGBEAgACAIIAVsaiABIAdqIAIgCCAGbCAHamogBCAFIAYQAgsgCUEDRgRAIAAgCCAFbGogASAHaiACIAggBmwgB2pqIAQgBSAGEAQLIAlBBEYEQCAAIAggBWxqIAEgB2ogAiAIIAZsIAdqaiAEIAUgBhAGCyAJQQVGBEAgACAIIAVsaiABIAdqIAIgCCAGbCAHamogBCAFIAYQCAsLwAUCDH8IewJAA0AgCEEGaiADSw0BIAAgCCAFbGohCiABIAdqIQsgAiAIIAZsIAdqaiEMIAQhDf0MAAAAAAAAAAAAAAAAAAAAACEU/QwAAAAAAAAAAAAAAAAAAAAAIRX9DAAAAAAAAAAAAAAAAAAAAAAhFv0MAAAAAAAAAAAAAAAAAAAAACEX/QwAAAAAAAAAAAAAAAAAAAAAIRj9DAAAAAAAAAAAAAAAAAAAAAAhGSAKIQ4gDiAFaiEPIA8gBWohECAQIAVqIREgESAFaiESIBIgBWohEwNAIAv9AAQAIRogDv0JAgAhGyAbIBogFP2FAiEUIA5BBGohDiAP/QkCACEbIBsgGiAV/YUCIRUgD0EEaiEPIBD9CQIAIRsgGyAaIBb9hQIhFiAQQQRqIRAgEf0JAgAhGyAbIBogF/2FAiEXIBFBBGohESAS/QkCACEbIBsgGiAY/YUCIRggEkEEaiESIBP9CQIAIRsgGyAaIBn9hQIhGSATQQRqIRMgCyAGaiELIA1BAWsiDQ0ACyAMIBT9CwQAIAwgBmohDCAMIBX9CwQAIAwgBmohDCAMIBb9CwQAIAwgBmohDCAMIBf9CwQAIAwgBmohDCAMIBj9CwQAIAwgBmohDCAMIBn9CwQAIAwgBmohDCAIQQZqIQgMAAsLIAMgCGshCSAJQQFGBEAgACAIIAVsaiABIAdqIAIgCCAGbCAHamogBCAFIAYQAQsgCUECRgRAIAAgCCAFbGogASAHaiACIAggBmwgB2pqIAQgBSAGEAMLIAlBA0YEQCAAIAggBWxqIAEgB2ogAiAIIAZsIAdqaiAEIAUgBhAFCyAJQQRGBEAgACAIIAVsaiABIAdqIAIgCCAGbCAHamogBCAFIAYQBwsgCUEFRgRAIAAgCCAFbGogASAHaiACIAggBmwgB2pqIAQgBSAGEAkLCzABAX0DQCAEIAAqAgAgASoCAJSSIQQgAEEEaiEAIAEgA2ohASACQQFrIgINAAsgBAsUACAA/RMgAf0TIAL9E/2FAv0fAAvgAQEFfyAFQQJ0IQYgBEECdCEHIARBeHFBAnQhCQJAA0AgCCAJTw0BIAAgASACIAMgBSAGIAcgCBAKIAhBIGohCAwACwsgByAIa0EQTwRAIAAgASACIAMgBSAGIAcgCBALIAhBEGohCAsgCCAHSSAHQRBPcQRAIAAgASACIAMgBSAGIAcgB0EQaxALIAchCAsCQANAIAggB08NAUEAIQoCQANAIAogA08NASACIAogB2wgCGpqIAAgCiAGbGogASAIaiAFIAcQDDgCACAKQQFqIQoMAAsLIAhBBGohCAwACwsL";

interface GemmExports {
  gemm(a: number, b: number, c: number, m: number, n: number, k: number): void;
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

const multiply: WasmKernelBody = (inputs, _attrs, wasm) => {
  const a = inputs.a as tf.TensorInfo, b = inputs.b as tf.TensorInfo;
  const [m, k] = a.shape, n = b.shape[1];
  const out = wasm.makeOutput([m, n], "float32");
  // Addresses taken after the allocation (which may grow the heap, never move a tensor).
  const at = (t: tf.TensorInfo) => heapAddress(wasm, t);
  if (k === 0) wasm.typedArrayFromHeap(out).fill(0);
  else if (m > 0 && n > 0) gemmExports(wasm).gemm(at(a), at(b), at(out), m, n, k);
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
