#!/usr/bin/env python3
"""bench/peer_torch.py: the PyTorch peer of bench_vae: the same VAE architectures, timed the
same way on the same machine.

Contract: prints one JSON object on stdout:
  {"torch": version, "threads": T, "blas": ..., "presets": {name: {
      "gen": {"1": {"s_per_shower", "mode"}, "100": ..., "10000": ...},
      "train": {"batch": 1024, "showers_per_s"}}}}
Generation = what showervae's generation does per call: z ~ N(0, I), the condition column(s),
the decoder, sigmoid, times E_inc, threshold. Training = one step at batch 1024: encoder,
reparameterisation, decoder, BCE on E_cell/E_inc summed over voxels + KL, backward, Adam.
For each batch size the fastest of two CPU set-ups is kept (eager under inference_mode, and
torch.jit.trace + freeze + optimize_for_inference) and its name reported. Timing: one warm-up
call, then calls for at least --window seconds (three times that for batch 10000 and training),
at least 3 calls; the fastest call is reported, as in bench_vae (a shared VM's neighbours only
ever add time).
With --export-onnx DIR it times nothing: it writes DIR/<preset>.onnx, the same generator as one
ONNX graph (input E (n, 1) MeV, output (n, V) MeV; z drawn inside by RandomNormalLike, batch
norm in inference form, random weights), for the ONNX Runtime peer (bench/peer_ort.js), and
prints {"onnx": {preset: path}}.
With --train-file FILE it times what a PyTorch user's training script does with a shower file
that fits in memory: h5py reads it into tensors, a DataLoader (shuffle, the preset's batch, as
showervae train) feeds --epochs epochs of the same step (with the preset's batch norm), and a
validation pass (10%) ends each epoch; it prints {"e2e": {preset: {"batch", "load_s",
"showers_per_s"}}} with training showers / seconds of the epochs (load time apart).
Usage: peer_torch.py [--threads T] [--window S] [--voxels V] [--presets a,b] [--export-onnx DIR]
                     [--train-file FILE [--epochs E]]
Exit status 3 when torch cannot be imported (the caller skips the peer).
"""
import argparse
import json
import sys
import time

try:
    import torch
    import torch.nn as nn
except ImportError as e:  # the caller prints a skip message
    print(json.dumps({"error": "PyTorch not importable: %s" % e}))
    sys.exit(3)

# the presets of vae/config.c (hidden widths, latent, conditions, batch norm)
PRESETS = {
    "bench-ds2": dict(enc=[1024, 512, 256], dec=[256, 512, 1024], Z=32, cond=1, bn=False, batch=256),
    "par04": dict(enc=[100, 50, 20, 14], dec=[14, 20, 50, 100], Z=10, cond=4, bn=True, batch=128),
}
THRESHOLD_MEV = 0.01515


def mlp(widths_in, hidden, out, bn):
    layers, w = [], widths_in
    for h in hidden:
        layers.append(nn.Linear(w, h))
        if bn:
            layers.append(nn.BatchNorm1d(h))
        layers.append(nn.LeakyReLU(0.2))
        w = h
    layers.append(nn.Linear(w, out))
    return nn.Sequential(*layers)


class Generator(nn.Module):
    """z, E -> showers (MeV): the generation path of showervae for a Bernoulli model."""

    def __init__(self, dec, Z, cond):
        super().__init__()
        self.dec, self.Z, self.cond = dec, Z, cond

    def forward(self, z, E):
        c = torch.log(E / 1e3) / 6.907755  # log(E / 1 GeV) / log(1000): in [0, 1]
        c = c.expand(-1, self.cond)
        x = torch.sigmoid(self.dec(torch.cat([z, c], 1))) * E
        return torch.where(x < THRESHOLD_MEV, torch.zeros_like(x), x)


class GraphGenerator(Generator):
    """E -> showers with z drawn inside: one ONNX graph for the ONNX Runtime peer."""

    def forward(self, E):
        return Generator.forward(self, torch.randn_like(E.expand(-1, self.Z)), E)


def export_onnx(p, V, path):
    torch.manual_seed(1)
    dec = mlp(p["Z"] + p["cond"], p["dec"], V, p["bn"]).eval()
    gen = GraphGenerator(dec, p["Z"], p["cond"]).eval()
    E = torch.full((4, 1), 1e4)
    torch.onnx.export(gen, (E,), path, input_names=["E"], output_names=["showers"],
                      dynamic_axes={"E": {0: "n"}, "showers": {0: "n"}}, opset_version=13)


def timed(f, window):
    f()
    t, t0 = [], time.perf_counter()
    prev = t0
    while prev - t0 < window or len(t) < 3:
        f()
        now = time.perf_counter()
        t.append(now - prev)
        prev = now
    return min(t)


def bench_generation(p, V, window):
    torch.manual_seed(1)
    dec = mlp(p["Z"] + p["cond"], p["dec"], V, p["bn"]).eval()
    gen = Generator(dec, p["Z"], p["cond"]).eval()
    out = {}
    for n in (1, 100, 10000):
        E = torch.exp(torch.empty(n, 1).uniform_(6.9, 13.8))  # 1 GeV .. 1 TeV in MeV
        best = None
        with torch.inference_mode():
            eager = lambda: gen(torch.randn(n, p["Z"]), E)
            w = 3 * window if n >= 10000 else window  # as bench_vae
            best = (timed(eager, w), "eager")
        with torch.no_grad():
            traced = torch.jit.trace(gen, (torch.randn(n, p["Z"]), E))
            frozen = torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
            jit = lambda: frozen(torch.randn(n, p["Z"]), E)
            t = timed(jit, w)
            if t < best[0]:
                best = (t, "jit-frozen")
        out[str(n)] = {"s_per_shower": best[0] / n, "mode": best[1]}
    return out


def vae_step(p, V):
    """The model and one training step on (frac (B, V) = E_cell / E_inc, E (B, 1) MeV);
    step(frac, E, train) returns the loss (backward and Adam only when train)."""
    torch.manual_seed(2)
    enc = mlp(V + p["cond"], p["enc"], 2 * p["Z"], p["bn"])
    dec = mlp(p["Z"] + p["cond"], p["dec"], V, p["bn"])
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=3e-4)
    bce = nn.BCEWithLogitsLoss(reduction="sum")

    def step(frac, E, train=True):
        B = frac.shape[0]
        c = (torch.log(E / 1e3) / 6.907755).expand(-1, p["cond"])
        h = enc(torch.cat([frac, c], 1))
        mu, lv = h[:, : p["Z"]], h[:, p["Z"]:].clamp(-8, 8)
        z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu)
        logits = dec(torch.cat([z, c], 1))
        kl = 0.5 * (mu * mu + lv.exp() - 1 - lv).sum()
        loss = (bce(logits, frac) + kl) / B
        if train:
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return loss

    return step, (enc, dec)


def bench_training(p, V, window, B=1024):
    step, _ = vae_step(p, V)
    E = torch.exp(torch.empty(B, 1).uniform_(6.9, 13.8))
    frac = torch.rand(B, V) * (torch.rand(B, V) < 0.3) / V  # E_cell / E_inc
    return {"batch": B, "showers_per_s": B / timed(lambda: step(frac, E), 3 * window)}


def train_e2e(p, path, epochs):
    import h5py
    import numpy as np
    from torch.utils.data import DataLoader, TensorDataset

    t0 = time.perf_counter()
    with h5py.File(path, "r") as f:
        E = torch.from_numpy(np.asarray(f["incident_energies"], dtype=np.float32).reshape(-1, 1))
        X = torch.from_numpy(np.asarray(f["showers"], dtype=np.float32))
    load_s = time.perf_counter() - t0
    g = torch.Generator().manual_seed(1)
    perm = torch.randperm(len(E), generator=g)
    nv = len(E) // 10
    va, tr = perm[:nv], perm[nv:]
    step, mods = vae_step(p, X.shape[1])
    dl = DataLoader(TensorDataset(E[tr], X[tr]), batch_size=p["batch"], shuffle=True, generator=g)
    t0 = time.perf_counter()
    for _ in range(epochs):
        for m in mods:
            m.train()
        for e, x in dl:
            step((x / e).clamp(max=1.0), e)
        for m in mods:
            m.eval()
        with torch.no_grad():
            for i in range(0, nv, 1024):
                e, x = E[va[i:i + 1024]], X[va[i:i + 1024]]
                step((x / e).clamp(max=1.0), e, train=False)
    el = time.perf_counter() - t0
    return {"batch": p["batch"], "load_s": load_s, "showers_per_s": len(tr) * epochs / el}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--window", type=float, default=2.0)
    ap.add_argument("--voxels", type=int, default=6480)
    ap.add_argument("--presets", default="bench-ds2,par04")
    ap.add_argument("--export-onnx", metavar="DIR")
    ap.add_argument("--train-file", metavar="FILE")
    ap.add_argument("--epochs", type=int, default=2)
    a = ap.parse_args()
    if a.train_file:
        torch.set_num_threads(a.threads)
        res = {"torch": torch.__version__, "threads": torch.get_num_threads(), "e2e": {}}
        for name in a.presets.split(","):
            res["e2e"][name] = train_e2e(PRESETS[name], a.train_file, a.epochs)
            print("peer: %s end-to-end training done" % name, file=sys.stderr, flush=True)
        print(json.dumps(res))
        return
    if a.export_onnx:
        paths = {}
        for name in a.presets.split(","):
            paths[name] = "%s/%s.onnx" % (a.export_onnx, name)
            export_onnx(PRESETS[name], a.voxels, paths[name])
        print(json.dumps({"onnx": paths}))
        return
    torch.set_num_threads(a.threads)
    res = {"torch": torch.__version__, "threads": torch.get_num_threads(),
           "mkldnn": torch.backends.mkldnn.is_available(), "presets": {}}
    for name in a.presets.split(","):
        p = PRESETS[name]
        res["presets"][name] = {"gen": bench_generation(p, a.voxels, a.window),
                                "train": bench_training(p, a.voxels, a.window)}
        print("peer: %s done" % name, file=sys.stderr, flush=True)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
