#!/usr/bin/env node
// bench/peer_ort.js: the ONNX Runtime peer of bench_vae: the generators bench/peer_torch.py
// exports (--export-onnx: E -> showers, z drawn inside the graph, the E_inc multiply and the
// threshold in it), run by ONNX Runtime's CPU provider (onnxruntime-node: MLAS kernels), the
// engine Geant4's Par04 example runs its decoder with.
//
// Contract: prints one JSON object on stdout:
//   {"ort": version, "threads": T, "presets": {name: {"gen": {"1": {"s_per_shower", "mode"},
//    "100": ..., "10000": ...}}}}
// Session: intraOpNumThreads T, interOpNumThreads 1, sequential execution, all graph
// optimisations. Timing as bench_vae and peer_torch.py: one warm-up call, then calls for at
// least --window seconds (three times that for batch 10000), at least 3; the fastest call.
// Each call builds its input tensor (E, log-uniform over 1 GeV .. 1 TeV, drawn once per batch
// size) and waits for the output, as a hook would.
// Usage: node peer_ort.js --models DIR [--threads T] [--window S] [--presets a,b]
// Exit status 3 when onnxruntime-node cannot be loaded (the caller skips the peer).
'use strict';

let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  console.log(JSON.stringify({error: 'onnxruntime-node not loadable: ' + e.message.split('\n')[0]}));
  process.exit(3);
}

function args() {
  const a = {threads: 2, window: 1.0, presets: 'bench-ds2,par04', models: null};
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) {
    const k = v[i].replace(/^--/, '');
    if (!(k in a) || i + 1 >= v.length) {
      console.error('usage: node peer_ort.js --models DIR [--threads T] [--window S] [--presets a,b]');
      process.exit(2);
    }
    a[k] = k === 'threads' ? parseInt(v[i + 1], 10) : k === 'window' ? parseFloat(v[i + 1]) : v[i + 1];
  }
  if (!a.models) {
    console.error('peer_ort.js: --models DIR (from peer_torch.py --export-onnx DIR) is required');
    process.exit(2);
  }
  return a;
}

// the fastest of the calls in a window of `window` seconds (at least 3), after one warm-up
async function timed(f, window) {
  await f();
  const t = [];
  const t0 = process.hrtime.bigint();
  let prev = t0;
  while (Number(prev - t0) / 1e9 < window || t.length < 3) {
    await f();
    const now = process.hrtime.bigint();
    t.push(Number(now - prev) / 1e9);
    prev = now;
  }
  return Math.min(...t);
}

async function benchPreset(path, threads, window) {
  const s = await ort.InferenceSession.create(path, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all'});
  const out = {};
  for (const n of [1, 100, 10000]) {
    const E = new Float32Array(n);
    for (let i = 0; i < n; i++) E[i] = Math.exp(6.9 + 6.9 * Math.random());
    const run = async () => {
      const r = await s.run({E: new ort.Tensor('float32', E, [n, 1])});
      return r.showers.data[0];
    };
    const best = await timed(run, n >= 10000 ? 3 * window : window);
    out[String(n)] = {s_per_shower: best / n, mode: 'ort-cpu'};
  }
  await s.release();
  return out;
}

(async () => {
  const a = args();
  const res = {ort: ort.env.versions ? ort.env.versions.common : 'unknown', threads: a.threads, presets: {}};
  for (const name of a.presets.split(',')) {
    res.presets[name] = {gen: await benchPreset(`${a.models}/${name}.onnx`, a.threads, a.window)};
    console.error(`peer_ort: ${name} done`);
  }
  console.log(JSON.stringify(res));
})().catch((e) => {
  console.log(JSON.stringify({error: String(e.message || e).split('\n')[0]}));
  process.exit(1);
});
