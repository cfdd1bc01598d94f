/**
 * For the tests of the project's WebAssembly kernels, which ship as bytes: their text compiled by
 * wabt (with SIMD and relaxed SIMD), base64, to compare with the shipped module.
 * @module
 */
import wabtInit from "wabt";

/** `text` compiled by wabt's parseWat (SIMD and relaxed SIMD enabled) and toBinary, as base64. */
export async function compiledBase64(name: string, text: string): Promise<string> {
  const wabt = await wabtInit();
  const module = wabt.parseWat(name, text, { simd: true, relaxed_simd: true });
  const { buffer } = module.toBinary({});
  module.destroy();
  let bytes = "";
  for (const b of buffer) bytes += String.fromCharCode(b);
  return btoa(bytes);
}
