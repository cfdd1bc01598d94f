/**
 * Float32 matrix products C = A·B on tfjs-wasm's heap by a WebAssembly kernel of the project's that
 * uses relaxed SIMD's fused multiply-add (`f32x4.relaxed_madd`). tfjs-backend-wasm 4.22's matMul
 * runs XNNPACK built for 128-bit SIMD without FMA (a multiply and an add per four lanes), near
 * 25–37 GFLOP/s on one core of this project's machines; with the FMA the same 128-bit lanes reach
 * 45–52 GFLOP/s on the MLP's shapes, 256×64·64×1024 and 256×1024·1024×64, where XNNPACK reached
 * 33–37 on the same core (measured in one process, tensors on tfjs-wasm's heap).
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
 * k steps per loop iteration (B read through one pointer per step of it), so that the pointers
 * advance once per four steps: 10–15% faster than one step per iteration on the MLP's shapes, two
 * 5–10%, eight the same (measured).
 */
const UNROLL = 4;

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
    stores.push("(local.set $pc (i32.add (local.get $pc) (local.get $ldb)))");
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
  "AGFzbQEAAAABJARgBn9/f39/fwBgCH9/f39/f39/AGAEf39/fwF9YAN9fX0BfQIPAQNlbnYGbWVtb3J5AgAAAxAPAAAAAAAAAAAAAAEBAgMABw8CBG1hZGQADQRnZW1tAA4KxlEPngMDAX8FewV/IAAhBiABIAVqIQ4gDiAFaiEPIA8gBWohECAFQQRsIQwgA0EDcSENAkADQCANRQ0BIAH9AAQAIQkgAf0ABBAhCiAG/QkCACELIAsgCSAH/YUCIQcgCyAKIAj9hQIhCCAGQQRqIQYgASAFaiEBIA4gBWohDiAPIAVqIQ8gECAFaiEQIA1BAWshDQwACwsgA0ECdiEDIAMEQANAIAH9AAQAIQkgAf0ABBAhCiAG/QkCACELIAsgCSAH/YUCIQcgCyAKIAj9hQIhCCAO/QAEACEJIA79AAQQIQogBv0JAgQhCyALIAkgB/2FAiEHIAsgCiAI/YUCIQggD/0ABAAhCSAP/QAEECEKIAb9CQIIIQsgCyAJIAf9hQIhByALIAogCP2FAiEIIBD9AAQAIQkgEP0ABBAhCiAG/QkCDCELIAsgCSAH/YUCIQcgCyAKIAj9hQIhCCAGQRBqIQYgASAMaiEBIA4gDGohDiAPIAxqIQ8gECAMaiEQIANBAWsiAw0ACwsgAiAH/QsEACACIAj9CwQQIAIgBWohAgu3AgMBfwN7BX8gACEGIAEgBWohDCAMIAVqIQ0gDSAFaiEOIAVBBGwhCiADQQNxIQsCQANAIAtFDQEgAf0ABAAhCCAG/QkCACEJIAkgCCAH/YUCIQcgBkEEaiEGIAEgBWohASAMIAVqIQwgDSAFaiENIA4gBWohDiALQQFrIQsMAAsLIANBAnYhAyADBEADQCAB/QAEACEIIAb9CQIAIQkgCSAIIAf9hQIhByAM/QAEACEIIAb9CQIEIQkgCSAIIAf9hQIhByAN/QAEACEIIAb9CQIIIQkgCSAIIAf9hQIhByAO/QAEACEIIAb9CQIMIQkgCSAIIAf9hQIhByAGQRBqIQYgASAKaiEBIAwgCmohDCANIApqIQ0gDiAKaiEOIANBAWsiAw0ACwsgAiAH/QsEACACIAVqIQIL4AQDAn8HewV/IAAhBiAGIARqIQcgASAFaiERIBEgBWohEiASIAVqIRMgBUEEbCEPIANBA3EhEAJAA0AgEEUNASAB/QAEACEMIAH9AAQQIQ0gBv0JAgAhDiAOIAwgCP2FAiEIIA4gDSAJ/YUCIQkgB/0JAgAhDiAOIAwgCv2FAiEKIA4gDSAL/YUCIQsgBkEEaiEGIAdBBGohByABIAVqIQEgESAFaiERIBIgBWohEiATIAVqIRMgEEEBayEQDAALCyADQQJ2IQMgAwRAA0AgAf0ABAAhDCAB/QAEECENIAb9CQIAIQ4gDiAMIAj9hQIhCCAOIA0gCf2FAiEJIAf9CQIAIQ4gDiAMIAr9hQIhCiAOIA0gC/2FAiELIBH9AAQAIQwgEf0ABBAhDSAG/QkCBCEOIA4gDCAI/YUCIQggDiANIAn9hQIhCSAH/QkCBCEOIA4gDCAK/YUCIQogDiANIAv9hQIhCyAS/QAEACEMIBL9AAQQIQ0gBv0JAgghDiAOIAwgCP2FAiEIIA4gDSAJ/YUCIQkgB/0JAgghDiAOIAwgCv2FAiEKIA4gDSAL/YUCIQsgE/0ABAAhDCAT/QAEECENIAb9CQIMIQ4gDiAMIAj9hQIhCCAOIA0gCf2FAiEJIAf9CQIMIQ4gDiAMIAr9hQIhCiAOIA0gC/2FAiELIAZBEGohBiAHQRBqIQcgASAPaiEBIBEgD2ohESASIA9qIRIgEyAPaiETIANBAWsiAw0ACwsgAiAI/QsEACACIAn9CwQQIAIgBWohAiACIAr9CwQAIAIgC/0LBBAgAiAFaiECC7oDAwJ/BHsFfyAAIQYgBiAEaiEHIAEgBWohDiAOIAVqIQ8gDyAFaiEQIAVBBGwhDCADQQNxIQ0CQANAIA1FDQEgAf0ABAAhCiAG/QkCACELIAsgCiAI/YUCIQggB/0JAgAhCyALIAogCf2FAiEJIAZBBGohBiAHQQRqIQcgASAFaiEBIA4gBWohDiAPIAVqIQ8gECAFaiEQIA1BAWshDQwACwsgA0ECdiEDIAMEQANAIAH9AAQAIQogBv0JAgAhCyALIAogCP2FAiEIIAf9CQIAIQsgCyAKIAn9hQIhCSAO/QAEACEKIAb9CQIEIQsgCyAKIAj9hQIhCCAH/QkCBCELIAsgCiAJ/YUCIQkgD/0ABAAhCiAG/QkCCCELIAsgCiAI/YUCIQggB/0JAgghCyALIAogCf2FAiEJIBD9AAQAIQogBv0JAgwhCyALIAogCP2FAiEIIAf9CQIMIQsgCyAKIAn9hQIhCSAGQRBqIQYgB0EQaiEHIAEgDGohASAOIAxqIQ4gDyAMaiEPIBAgDGohECADQQFrIgMNAAsLIAIgCP0LBAAgAiAFaiECIAIgCf0LBAAgAiAFaiECC6IGAwN/CXsFfyAAIQYgBiAEaiEHIAcgBGohCCABIAVqIRQgFCAFaiEVIBUgBWohFiAFQQRsIRIgA0EDcSETAkADQCATRQ0BIAH9AAQAIQ8gAf0ABBAhECAG/QkCACERIBEgDyAJ/YUCIQkgESAQIAr9hQIhCiAH/QkCACERIBEgDyAL/YUCIQsgESAQIAz9hQIhDCAI/QkCACERIBEgDyAN/YUCIQ0gESAQIA79hQIhDiAGQQRqIQYgB0EEaiEHIAhBBGohCCABIAVqIQEgFCAFaiEUIBUgBWohFSAWIAVqIRYgE0EBayETDAALCyADQQJ2IQMgAwRAA0AgAf0ABAAhDyAB/QAEECEQIAb9CQIAIREgESAPIAn9hQIhCSARIBAgCv2FAiEKIAf9CQIAIREgESAPIAv9hQIhCyARIBAgDP2FAiEMIAj9CQIAIREgESAPIA39hQIhDSARIBAgDv2FAiEOIBT9AAQAIQ8gFP0ABBAhECAG/QkCBCERIBEgDyAJ/YUCIQkgESAQIAr9hQIhCiAH/QkCBCERIBEgDyAL/YUCIQsgESAQIAz9hQIhDCAI/QkCBCERIBEgDyAN/YUCIQ0gESAQIA79hQIhDiAV/QAEACEPIBX9AAQQIRAgBv0JAgghESARIA8gCf2FAiEJIBEgECAK/YUCIQogB/0JAgghESARIA8gC/2FAiELIBEgECAM/YUCIQwgCP0JAgghESARIA8gDf2FAiENIBEgECAO/YUCIQ4gFv0ABAAhDyAW/QAEECEQIAb9CQIMIREgESAPIAn9hQIhCSARIBAgCv2FAiEKIAf9CQIMIREgESAPIAv9hQIhCyARIBAgDP2FAiEMIAj9CQIMIREgESAPIA39hQIhDSARIBAgDv2FAiEOIAZBEGohBiAHQRBqIQcgCEEQaiEIIAEgEmohASAUIBJqIRQgFSASaiEVIBYgEmohFiADQQFrIgMNAAsLIAIgCf0LBAAgAiAK/QsEECACIAVqIQIgAiAL/QsEACACIAz9CwQQIAIgBWohAiACIA39CwQAIAIgDv0LBBAgAiAFaiECC70EAwN/BXsFfyAAIQYgBiAEaiEHIAcgBGohCCABIAVqIRAgECAFaiERIBEgBWohEiAFQQRsIQ4gA0EDcSEPAkADQCAPRQ0BIAH9AAQAIQwgBv0JAgAhDSANIAwgCf2FAiEJIAf9CQIAIQ0gDSAMIAr9hQIhCiAI/QkCACENIA0gDCAL/YUCIQsgBkEEaiEGIAdBBGohByAIQQRqIQggASAFaiEBIBAgBWohECARIAVqIREgEiAFaiESIA9BAWshDwwACwsgA0ECdiEDIAMEQANAIAH9AAQAIQwgBv0JAgAhDSANIAwgCf2FAiEJIAf9CQIAIQ0gDSAMIAr9hQIhCiAI/QkCACENIA0gDCAL/YUCIQsgEP0ABAAhDCAG/QkCBCENIA0gDCAJ/YUCIQkgB/0JAgQhDSANIAwgCv2FAiEKIAj9CQIEIQ0gDSAMIAv9hQIhCyAR/QAEACEMIAb9CQIIIQ0gDSAMIAn9hQIhCSAH/QkCCCENIA0gDCAK/YUCIQogCP0JAgghDSANIAwgC/2FAiELIBL9AAQAIQwgBv0JAgwhDSANIAwgCf2FAiEJIAf9CQIMIQ0gDSAMIAr9hQIhCiAI/QkCDCENIA0gDCAL/YUCIQsgBkEQaiEGIAdBEGohByAIQRBqIQggASAOaiEBIBAgDmohECARIA5qIREgEiAOaiESIANBAWsiAw0ACwsgAiAJ/QsEACACIAVqIQIgAiAK/QsEACACIAVqIQIgAiAL/QsEACACIAVqIQIL5AcDBH8LewV/IAAhBiAGIARqIQcgByAEaiEIIAggBGohCSABIAVqIRcgFyAFaiEYIBggBWohGSAFQQRsIRUgA0EDcSEWAkADQCAWRQ0BIAH9AAQAIRIgAf0ABBAhEyAG/QkCACEUIBQgEiAK/YUCIQogFCATIAv9hQIhCyAH/QkCACEUIBQgEiAM/YUCIQwgFCATIA39hQIhDSAI/QkCACEUIBQgEiAO/YUCIQ4gFCATIA/9hQIhDyAJ/QkCACEUIBQgEiAQ/YUCIRAgFCATIBH9hQIhESAGQQRqIQYgB0EEaiEHIAhBBGohCCAJQQRqIQkgASAFaiEBIBcgBWohFyAYIAVqIRggGSAFaiEZIBZBAWshFgwACwsgA0ECdiEDIAMEQANAIAH9AAQAIRIgAf0ABBAhEyAG/QkCACEUIBQgEiAK/YUCIQogFCATIAv9hQIhCyAH/QkCACEUIBQgEiAM/YUCIQwgFCATIA39hQIhDSAI/QkCACEUIBQgEiAO/YUCIQ4gFCATIA/9hQIhDyAJ/QkCACEUIBQgEiAQ/YUCIRAgFCATIBH9hQIhESAX/QAEACESIBf9AAQQIRMgBv0JAgQhFCAUIBIgCv2FAiEKIBQgEyAL/YUCIQsgB/0JAgQhFCAUIBIgDP2FAiEMIBQgEyAN/YUCIQ0gCP0JAgQhFCAUIBIgDv2FAiEOIBQgEyAP/YUCIQ8gCf0JAgQhFCAUIBIgEP2FAiEQIBQgEyAR/YUCIREgGP0ABAAhEiAY/QAEECETIAb9CQIIIRQgFCASIAr9hQIhCiAUIBMgC/2FAiELIAf9CQIIIRQgFCASIAz9hQIhDCAUIBMgDf2FAiENIAj9CQIIIRQgFCASIA79hQIhDiAUIBMgD/2FAiEPIAn9CQIIIRQgFCASIBD9hQIhECAUIBMgEf2FAiERIBn9AAQAIRIgGf0ABBAhEyAG/QkCDCEUIBQgEiAK/YUCIQogFCATIAv9hQIhCyAH/QkCDCEUIBQgEiAM/YUCIQwgFCATIA39hQIhDSAI/QkCDCEUIBQgEiAO/YUCIQ4gFCATIA/9hQIhDyAJ/QkCDCEUIBQgEiAQ/YUCIRAgFCATIBH9hQIhESAGQRBqIQYgB0EQaiEHIAhBEGohCCAJQRBqIQkgASAVaiEBIBcgFWohFyAYIBVqIRggGSAVaiEZIANBAWsiAw0ACwsgAiAK/QsEACACIAv9CwQQIAIgBWohAiACIAz9CwQAIAIgDf0LBBAgAiAFaiECIAIgDv0LBAAgAiAP/QsEECACIAVqIQIgAiAQ/QsEACACIBH9CwQQIAIgBWohAgvABQMEfwZ7BX8gACEGIAYgBGohByAHIARqIQggCCAEaiEJIAEgBWohEiASIAVqIRMgEyAFaiEUIAVBBGwhECADQQNxIRECQANAIBFFDQEgAf0ABAAhDiAG/QkCACEPIA8gDiAK/YUCIQogB/0JAgAhDyAPIA4gC/2FAiELIAj9CQIAIQ8gDyAOIAz9hQIhDCAJ/QkCACEPIA8gDiAN/YUCIQ0gBkEEaiEGIAdBBGohByAIQQRqIQggCUEEaiEJIAEgBWohASASIAVqIRIgEyAFaiETIBQgBWohFCARQQFrIREMAAsLIANBAnYhAyADBEADQCAB/QAEACEOIAb9CQIAIQ8gDyAOIAr9hQIhCiAH/QkCACEPIA8gDiAL/YUCIQsgCP0JAgAhDyAPIA4gDP2FAiEMIAn9CQIAIQ8gDyAOIA39hQIhDSAS/QAEACEOIAb9CQIEIQ8gDyAOIAr9hQIhCiAH/QkCBCEPIA8gDiAL/YUCIQsgCP0JAgQhDyAPIA4gDP2FAiEMIAn9CQIEIQ8gDyAOIA39hQIhDSAT/QAEACEOIAb9CQIIIQ8gDyAOIAr9hQIhCiAH/QkCCCEPIA8gDiAL/YUCIQsgCP0JAgghDyAPIA4gDP2FAiEMIAn9CQIIIQ8gDyAOIA39hQIhDSAU/QAEACEOIAb9CQIMIQ8gDyAOIAr9hQIhCiAH/QkCDCEPIA8gDiAL/YUCIQsgCP0JAgwhDyAPIA4gDP2FAiEMIAn9CQIMIQ8gDyAOIA39hQIhDSAGQRBqIQYgB0EQaiEHIAhBEGohCCAJQRBqIQkgASAQaiEBIBIgEGohEiATIBBqIRMgFCAQaiEUIANBAWsiAw0ACwsgAiAK/QsEACACIAVqIQIgAiAL/QsEACACIAVqIQIgAiAM/QsEACACIAVqIQIgAiAN/QsEACACIAVqIQILpgkDBX8NewV/IAAhBiAGIARqIQcgByAEaiEIIAggBGohCSAJIARqIQogASAFaiEaIBogBWohGyAbIAVqIRwgBUEEbCEYIANBA3EhGQJAA0AgGUUNASAB/QAEACEVIAH9AAQQIRYgBv0JAgAhFyAXIBUgC/2FAiELIBcgFiAM/YUCIQwgB/0JAgAhFyAXIBUgDf2FAiENIBcgFiAO/YUCIQ4gCP0JAgAhFyAXIBUgD/2FAiEPIBcgFiAQ/YUCIRAgCf0JAgAhFyAXIBUgEf2FAiERIBcgFiAS/YUCIRIgCv0JAgAhFyAXIBUgE/2FAiETIBcgFiAU/YUCIRQgBkEEaiEGIAdBBGohByAIQQRqIQggCUEEaiEJIApBBGohCiABIAVqIQEgGiAFaiEaIBsgBWohGyAcIAVqIRwgGUEBayEZDAALCyADQQJ2IQMgAwRAA0AgAf0ABAAhFSAB/QAEECEWIAb9CQIAIRcgFyAVIAv9hQIhCyAXIBYgDP2FAiEMIAf9CQIAIRcgFyAVIA39hQIhDSAXIBYgDv2FAiEOIAj9CQIAIRcgFyAVIA/9hQIhDyAXIBYgEP2FAiEQIAn9CQIAIRcgFyAVIBH9hQIhESAXIBYgEv2FAiESIAr9CQIAIRcgFyAVIBP9hQIhEyAXIBYgFP2FAiEUIBr9AAQAIRUgGv0ABBAhFiAG/QkCBCEXIBcgFSAL/YUCIQsgFyAWIAz9hQIhDCAH/QkCBCEXIBcgFSAN/YUCIQ0gFyAWIA79hQIhDiAI/QkCBCEXIBcgFSAP/YUCIQ8gFyAWIBD9hQIhECAJ/QkCBCEXIBcgFSAR/YUCIREgFyAWIBL9hQIhEiAK/QkCBCEXIBcgFSAT/YUCIRMgFyAWIBT9hQIhFCAb/QAEACEVIBv9AAQQIRYgBv0JAgghFyAXIBUgC/2FAiELIBcgFiAM/YUCIQwgB/0JAgghFyAXIBUgDf2FAiENIBcgFiAO/YUCIQ4gCP0JAgghFyAXIBUgD/2FAiEPIBcgFiAQ/YUCIRAgCf0JAgghFyAXIBUgEf2FAiERIBcgFiAS/YUCIRIgCv0JAgghFyAXIBUgE/2FAiETIBcgFiAU/YUCIRQgHP0ABAAhFSAc/QAEECEWIAb9CQIMIRcgFyAVIAv9hQIhCyAXIBYgDP2FAiEMIAf9CQIMIRcgFyAVIA39hQIhDSAXIBYgDv2FAiEOIAj9CQIMIRcgFyAVIA/9hQIhDyAXIBYgEP2FAiEQIAn9CQIMIRcgFyAVIBH9hQIhESAXIBYgEv2FAiESIAr9CQIMIRcgFyAVIBP9hQIhEyAXIBYgFP2FAiEUIAZBEGohBiAHQRBqIQcgCEEQaiEIIAlBEGohCSAKQRBqIQogASAYaiEBIBogGGohGiAbIBhqIRsgHCAYaiEcIANBAWsiAw0ACwsgAiAL/QsEACACIAz9CwQQIAIgBWohAiACIA39CwQAIAIgDv0LBBAgAiAFaiECIAIgD/0LBAAgAiAQ/QsEECACIAVqIQIgAiAR/QsEACACIBL9CwQQIAIgBWohAiACIBP9CwQAIAIgFP0LBBAgAiAFaiECC8MGAwV/B3sFfyAAIQYgBiAEaiEHIAcgBGohCCAIIARqIQkgCSAEaiEKIAEgBWohFCAUIAVqIRUgFSAFaiEWIAVBBGwhEiADQQNxIRMCQANAIBNFDQEgAf0ABAAhECAG/QkCACERIBEgECAL/YUCIQsgB/0JAgAhESARIBAgDP2FAiEMIAj9CQIAIREgESAQIA39hQIhDSAJ/QkCACERIBEgECAO/YUCIQ4gCv0JAgAhESARIBAgD/2FAiEPIAZBBGohBiAHQQRqIQcgCEEEaiEIIAlBBGohCSAKQQRqIQogASAFaiEBIBQgBWohFCAVIAVqIRUgFiAFaiEWIBNBAWshEwwACwsgA0ECdiEDIAMEQANAIAH9AAQAIRAgBv0JAgAhESARIBAgC/2FAiELIAf9CQIAIREgESAQIAz9hQIhDCAI/QkCACERIBEgECAN/YUCIQ0gCf0JAgAhESARIBAgDv2FAiEOIAr9CQIAIREgESAQIA/9hQIhDyAU/QAEACEQIAb9CQIEIREgESAQIAv9hQIhCyAH/QkCBCERIBEgECAM/YUCIQwgCP0JAgQhESARIBAgDf2FAiENIAn9CQIEIREgESAQIA79hQIhDiAK/QkCBCERIBEgECAP/YUCIQ8gFf0ABAAhECAG/QkCCCERIBEgECAL/YUCIQsgB/0JAgghESARIBAgDP2FAiEMIAj9CQIIIREgESAQIA39hQIhDSAJ/QkCCCERIBEgECAO/YUCIQ4gCv0JAgghESARIBAgD/2FAiEPIBb9AAQAIRAgBv0JAgwhESARIBAgC/2FAiELIAf9CQIMIREgESAQIAz9hQIhDCAI/QkCDCERIBEgECAN/YUCIQ0gCf0JAgwhESARIBAgDv2FAiEOIAr9CQIMIREgESAQIA/9hQIhDyAGQRBqIQYgB0EQaiEHIAhBEGohCCAJQRBqIQkgCkEQaiEKIAEgEmohASAUIBJqIRQgFSASaiEVIBYgEmohFiADQQFrIgMNAAsLIAIgC/0LBAAgAiAFaiECIAIgDP0LBAAgAiAFaiECIAIgDf0LBAAgAiAFaiECIAIgDv0LBAAgAiAFaiECIAIgD/0LBAAgAiAFaiECC+IOAwx/D3sFfwJAA0AgCEEGaiADSw0BIAAgCCAFbGohCiABIAdqIQsgAiAIIAZsIAdqaiEMIAQhDf0MAAAAAAAAAAAAAAAAAAAAACEU/QwAAAAAAAAAAAAAAAAAAAAAIRX9DAAAAAAAAAAAAAAAAAAAAAAhFv0MAAAAAAAAAAAAAAAAAAAAACEX/QwAAAAAAAAAAAAAAAAAAAAAIRj9DAAAAAAAAAAAAAAAAAAAAAAhGf0MAAAAAAAAAAAAAAAAAAAAACEa/QwAAAAAAAAAAAAAAAAAAAAAIRv9DAAAAAAAAAAAAAAAAAAAAAAhHP0MAAAAAAAAAAAAAAAAAAAAACEd/QwAAAAAAAAAAAAAAAAAAAAAIR79DAAAAAAAAAAAAAAAAAAAAAAhHyAKIQ4gDiAFaiEPIA8gBWohECAQIAVqIREgESAFaiESIBIgBWohEyALIAZqISUgJSAGaiEmICYgBmohJyAGQQRsISMgDUEDcSEkAkADQCAkRQ0BIAv9AAQAISAgC/0ABBAhISAO/QkCACEiICIgICAU/YUCIRQgIiAhIBX9hQIhFSAP/QkCACEiICIgICAW/YUCIRYgIiAhIBf9hQIhFyAQ/QkCACEiICIgICAY/YUCIRggIiAhIBn9hQIhGSAR/QkCACEiICIgICAa/YUCIRogIiAhIBv9hQIhGyAS/QkCACEiICIgICAc/YUCIRwgIiAhIB39hQIhHSAT/QkCACEiICIgICAe/YUCIR4gIiAhIB/9hQIhHyAOQQRqIQ4gD0EEaiEPIBBBBGohECARQQRqIREgEkEEaiESIBNBBGohEyALIAZqIQsgJSAGaiElICYgBmohJiAnIAZqIScgJEEBayEkDAALCyANQQJ2IQ0gDQRAA0AgC/0ABAAhICAL/QAEECEhIA79CQIAISIgIiAgIBT9hQIhFCAiICEgFf2FAiEVIA/9CQIAISIgIiAgIBb9hQIhFiAiICEgF/2FAiEXIBD9CQIAISIgIiAgIBj9hQIhGCAiICEgGf2FAiEZIBH9CQIAISIgIiAgIBr9hQIhGiAiICEgG/2FAiEbIBL9CQIAISIgIiAgIBz9hQIhHCAiICEgHf2FAiEdIBP9CQIAISIgIiAgIB79hQIhHiAiICEgH/2FAiEfICX9AAQAISAgJf0ABBAhISAO/QkCBCEiICIgICAU/YUCIRQgIiAhIBX9hQIhFSAP/QkCBCEiICIgICAW/YUCIRYgIiAhIBf9hQIhFyAQ/QkCBCEiICIgICAY/YUCIRggIiAhIBn9hQIhGSAR/QkCBCEiICIgICAa/YUCIRogIiAhIBv9hQIhGyAS/QkCBCEiICIgICAc/YUCIRwgIiAhIB39hQIhHSAT/QkCBCEiICIgICAe/YUCIR4gIiAhIB/9hQIhHyAm/QAEACEgICb9AAQQISEgDv0JAgghIiAiICAgFP2FAiEUICIgISAV/YUCIRUgD/0JAgghIiAiICAgFv2FAiEWICIgISAX/YUCIRcgEP0JAgghIiAiICAgGP2FAiEYICIgISAZ/YUCIRkgEf0JAgghIiAiICAgGv2FAiEaICIgISAb/YUCIRsgEv0JAgghIiAiICAgHP2FAiEcICIgISAd/YUCIR0gE/0JAgghIiAiICAgHv2FAiEeICIgISAf/YUCIR8gJ/0ABAAhICAn/QAEECEhIA79CQIMISIgIiAgIBT9hQIhFCAiICEgFf2FAiEVIA/9CQIMISIgIiAgIBb9hQIhFiAiICEgF/2FAiEXIBD9CQIMISIgIiAgIBj9hQIhGCAiICEgGf2FAiEZIBH9CQIMISIgIiAgIBr9hQIhGiAiICEgG/2FAiEbIBL9CQIMISIgIiAgIBz9hQIhHCAiICEgHf2FAiEdIBP9CQIMISIgIiAgIB79hQIhHiAiICEgH/2FAiEfIA5BEGohDiAPQRBqIQ8gEEEQaiEQIBFBEGohESASQRBqIRIgE0EQaiETIAsgI2ohCyAlICNqISUgJiAjaiEmICcgI2ohJyANQQFrIg0NAAsLIAwgFP0LBAAgDCAV/QsEECAMIAZqIQwgDCAW/QsEACAMIBf9CwQQIAwgBmohDCAMIBj9CwQAIAwgGf0LBBAgDCAGaiEMIAwgGv0LBAAgDCAb/QsEECAMIAZqIQwgDCAc/QsEACAMIB39CwQQIAwgBmohDCAMIB79CwQAIAwgH/0LBBAgDCAGaiEMIAhBBmohCAwACwsgAyAIayEJIAlBAUYEQCAAIAggBWxqIAEgB2ogAiAIIAZsIAdqaiAEIAUgBhAACyAJQQJGBEAgACAIIAVsaiABIAdqIAIgCCAGbCAHamogBCAFIAYQAgsgCUEDRgRAIAAgCCAFbGogASAHaiACIAggBmwgB2pqIAQgBSAGEAQLIAlBBEYEQCAAIAggBWxqIAEgB2ogAiAIIAZsIAdqaiAEIAUgBhAGCyAJQQVGBEAgACAIIAVsaiABIAdqIAIgCCAGbCAHamogBCAFIAYQCAsLyAoDDH8IewV/AkADQCAIQQZqIANLDQEgACAIIAVsaiEKIAEgB2ohCyACIAggBmwgB2pqIQwgBCEN/QwAAAAAAAAAAAAAAAAAAAAAIRT9DAAAAAAAAAAAAAAAAAAAAAAhFf0MAAAAAAAAAAAAAAAAAAAAACEW/QwAAAAAAAAAAAAAAAAAAAAAIRf9DAAAAAAAAAAAAAAAAAAAAAAhGP0MAAAAAAAAAAAAAAAAAAAAACEZIAohDiAOIAVqIQ8gDyAFaiEQIBAgBWohESARIAVqIRIgEiAFaiETIAsgBmohHiAeIAZqIR8gHyAGaiEgIAZBBGwhHCANQQNxIR0CQANAIB1FDQEgC/0ABAAhGiAO/QkCACEbIBsgGiAU/YUCIRQgD/0JAgAhGyAbIBogFf2FAiEVIBD9CQIAIRsgGyAaIBb9hQIhFiAR/QkCACEbIBsgGiAX/YUCIRcgEv0JAgAhGyAbIBogGP2FAiEYIBP9CQIAIRsgGyAaIBn9hQIhGSAOQQRqIQ4gD0EEaiEPIBBBBGohECARQQRqIREgEkEEaiESIBNBBGohEyALIAZqIQsgHiAGaiEeIB8gBmohHyAgIAZqISAgHUEBayEdDAALCyANQQJ2IQ0gDQRAA0AgC/0ABAAhGiAO/QkCACEbIBsgGiAU/YUCIRQgD/0JAgAhGyAbIBogFf2FAiEVIBD9CQIAIRsgGyAaIBb9hQIhFiAR/QkCACEbIBsgGiAX/YUCIRcgEv0JAgAhGyAbIBogGP2FAiEYIBP9CQIAIRsgGyAaIBn9hQIhGSAe/QAEACEaIA79CQIEIRsgGyAaIBT9hQIhFCAP/QkCBCEbIBsgGiAV/YUCIRUgEP0JAgQhGyAbIBogFv2FAiEWIBH9CQIEIRsgGyAaIBf9hQIhFyAS/QkCBCEbIBsgGiAY/YUCIRggE/0JAgQhGyAbIBogGf2FAiEZIB/9AAQAIRogDv0JAgghGyAbIBogFP2FAiEUIA/9CQIIIRsgGyAaIBX9hQIhFSAQ/QkCCCEbIBsgGiAW/YUCIRYgEf0JAgghGyAbIBogF/2FAiEXIBL9CQIIIRsgGyAaIBj9hQIhGCAT/QkCCCEbIBsgGiAZ/YUCIRkgIP0ABAAhGiAO/QkCDCEbIBsgGiAU/YUCIRQgD/0JAgwhGyAbIBogFf2FAiEVIBD9CQIMIRsgGyAaIBb9hQIhFiAR/QkCDCEbIBsgGiAX/YUCIRcgEv0JAgwhGyAbIBogGP2FAiEYIBP9CQIMIRsgGyAaIBn9hQIhGSAOQRBqIQ4gD0EQaiEPIBBBEGohECARQRBqIREgEkEQaiESIBNBEGohEyALIBxqIQsgHiAcaiEeIB8gHGohHyAgIBxqISAgDUEBayINDQALCyAMIBT9CwQAIAwgBmohDCAMIBX9CwQAIAwgBmohDCAMIBb9CwQAIAwgBmohDCAMIBf9CwQAIAwgBmohDCAMIBj9CwQAIAwgBmohDCAMIBn9CwQAIAwgBmohDCAIQQZqIQgMAAsLIAMgCGshCSAJQQFGBEAgACAIIAVsaiABIAdqIAIgCCAGbCAHamogBCAFIAYQAQsgCUECRgRAIAAgCCAFbGogASAHaiACIAggBmwgB2pqIAQgBSAGEAMLIAlBA0YEQCAAIAggBWxqIAEgB2ogAiAIIAZsIAdqaiAEIAUgBhAFCyAJQQRGBEAgACAIIAVsaiABIAdqIAIgCCAGbCAHamogBCAFIAYQBwsgCUEFRgRAIAAgCCAFbGogASAHaiACIAggBmwgB2pqIAQgBSAGEAkLCzABAX0DQCAEIAAqAgAgASoCAJSSIQQgAEEEaiEAIAEgA2ohASACQQFrIgINAAsgBAsUACAA/RMgAf0TIAL9E/2FAv0fAAvgAQEFfyAFQQJ0IQYgBEECdCEHIARBeHFBAnQhCQJAA0AgCCAJTw0BIAAgASACIAMgBSAGIAcgCBAKIAhBIGohCAwACwsgByAIa0EQTwRAIAAgASACIAMgBSAGIAcgCBALIAhBEGohCAsgCCAHSSAHQRBPcQRAIAAgASACIAMgBSAGIAcgB0EQaxALIAchCAsCQANAIAggB08NAUEAIQoCQANAIAogA08NASACIAogB2wgCGpqIAAgCiAGbGogASAIaiAFIAcQDDgCACAKQQFqIQoMAAsLIAhBBGohCAwACwsL";

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
