#!/usr/bin/env node
// tests/onnx_run.js: runs an ONNX file with ONNX Runtime (onnxruntime-node, the CPU provider the
// bench peer uses) on float32 inputs from a file, for tests/test_export.c.
// Usage: node onnx_run.js MODEL.onnx IN.bin N W OUT.bin
//   IN.bin: N x W float32 (little endian), fed to the model's only input as (N, W);
//   OUT.bin: the first output's float32 values, in order.
// Exit status: 0; 3 when onnxruntime-node cannot be loaded; 1 on any other failure (message).
'use strict';
let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  console.error('onnx_run.js: onnxruntime-node not loadable: ' + e.message.split('\n')[0]);
  process.exit(3);
}
const fs = require('fs');

async function main() {
  const [model, inPath, nS, wS, outPath] = process.argv.slice(2);
  const n = parseInt(nS, 10), w = parseInt(wS, 10);
  const buf = fs.readFileSync(inPath);
  const x = new Float32Array(buf.buffer, buf.byteOffset, n * w);
  const s = await ort.InferenceSession.create(model, {intraOpNumThreads: 1, graphOptimizationLevel: 'all'});
  const feeds = {};
  feeds[s.inputNames[0]] = new ort.Tensor('float32', Float32Array.from(x), [n, w]);
  const out = await s.run(feeds);
  const y = out[s.outputNames[0]].data;
  fs.writeFileSync(outPath, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
}
main().catch((e) => {
  console.error('onnx_run.js: ' + e.message.split('\n')[0]);
  process.exit(1);
});
