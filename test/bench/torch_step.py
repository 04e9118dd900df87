"""PyTorch CPU baseline for test/bench/train-step.bench.ts: one optimizer step (forward + backward +
AdamW) of a timm-shaped ViT with SNELL or LoRA adapters, seeded random weights (speed only).

Usage: torch_step.py '<json>' with keys img, patch, embed, depth, heads, batch, rank, sparsity,
snellHeads, classes, warmup, steps, threads, methods. Prints one JSON object on stdout.

SNELL follows the reference semantics: ΔW[i, j] = Σ_h c_h ‖A[h, i] − B[h, j]‖₂ (c = +0.1, −0.1, ...),
τ = torch.quantile(|ΔW|, s) (linear interpolation), S = ΔW · |ΔW|.detach() · [|ΔW| > τ], y = x·S;
the adapter branch is checkpointed (ΔW recomputed in backward), as the reference does.
"""
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


class Adapter(nn.Module):
    def __init__(self, d_in, d_out, kind, rank, heads, sparsity):
        super().__init__()
        self.kind = kind
        self.sparsity = sparsity
        h = heads if kind == "snell" else 1
        d = rank // h
        self.A = nn.Parameter(torch.empty(h, d_in, d).uniform_(-1 / math.sqrt(d_in * d), 1 / math.sqrt(d_in * d)))
        self.B = nn.Parameter(torch.empty(h, d_out, d).uniform_(-1 / math.sqrt(d_out * d), 1 / math.sqrt(d_out * d)))
        coeffs = [0.1 * (-1) ** i for i in range(h)]
        self.register_buffer("c", torch.tensor(coeffs).view(h, 1, 1))
        self.drop = nn.Dropout(0.1)

    def delta(self, A, B):
        if self.kind == "lora":
            return A[0] @ B[0].t()
        dw = (torch.cdist(A, B, p=2) * self.c).sum(0)
        if self.sparsity == 0:
            return dw
        a = dw.abs().detach()
        tau = torch.quantile(a.flatten(), self.sparsity)
        return dw * a * (a > tau)

    def branch(self, x, A, B):
        return x @ self.delta(A, B)

    def forward(self, x):
        x = self.drop(x)
        if self.kind == "snell":
            return checkpoint(self.branch, x, self.A, self.B, use_reentrant=False)
        return self.branch(x, self.A, self.B)


class Block(nn.Module):
    def __init__(self, dim, heads, kind, rank, snell_heads, sparsity):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.fc2 = nn.Linear(4 * dim, dim)
        mk = lambda i, o: Adapter(i, o, kind, rank, snell_heads, sparsity) if kind else None
        self.ad = nn.ModuleDict({n: mk(i, o) for n, i, o in [
            ("q", dim, dim), ("k", dim, dim), ("v", dim, dim), ("proj", dim, dim), ("fc1", dim, 4 * dim), ("fc2", 4 * dim, dim)
        ]}) if kind else None

    def forward(self, x):
        n, t, d = x.shape
        h1 = self.norm1(x)
        q, k, v = self.qkv(h1).chunk(3, dim=-1)
        if self.ad is not None:
            q, k, v = q + self.ad["q"](h1), k + self.ad["k"](h1), v + self.ad["v"](h1)
        sh = lambda z: z.reshape(n, t, self.heads, d // self.heads).transpose(1, 2)
        attn = (sh(q) @ sh(k).transpose(-2, -1)) * (d // self.heads) ** -0.5
        ctx = (attn.softmax(-1) @ sh(v)).transpose(1, 2).reshape(n, t, d)
        out = self.proj(ctx) + (self.ad["proj"](ctx) if self.ad is not None else 0)
        x = x + out
        h2 = self.norm2(x)
        f1 = self.fc1(h2) + (self.ad["fc1"](h2) if self.ad is not None else 0)
        act = F.gelu(f1)
        f2 = self.fc2(act) + (self.ad["fc2"](act) if self.ad is not None else 0)
        return x + f2


class ViT(nn.Module):
    def __init__(self, c, kind):
        super().__init__()
        dim, tokens = c["embed"], (c["img"] // c["patch"]) ** 2 + 1
        self.patch = nn.Conv2d(3, dim, c["patch"], c["patch"])
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, tokens, dim) * 0.02)
        self.blocks = nn.ModuleList(Block(dim, c["heads"], kind, c["rank"], c["snellHeads"], c["sparsity"]) for _ in range(c["depth"]))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, c["classes"])

    def forward(self, x):
        p = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), p], 1) + self.pos
        for b in self.blocks:
            x = b(x)
        return self.head(self.norm(x[:, 0]))


def run(c, method):
    torch.manual_seed(1)
    kind = {"snell": "snell", "lora": "lora", "full": None, "mask": None}[method]
    model = ViT(c, kind)
    model.train()
    for name, p in model.named_parameters():
        p.requires_grad = method in ("full", "mask") or ".ad." in name or name.startswith("head") or name == "cls"
    params = [p for p in model.parameters() if p.requires_grad]
    masks = {}
    if method == "mask":
        # GPS-style: full weight matrices, a fixed random 0/1 gradient mask at SNELL's kept density
        for name, p in model.named_parameters():
            if name.endswith(("qkv.weight", "proj.weight", "fc1.weight", "fc2.weight")):
                masks[p] = (torch.rand_like(p) >= c["sparsity"]).float()
                p.register_hook(lambda g, m=masks[p]: g * m)
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-4)
    x = torch.randn(c["batch"], 3, c["img"], c["img"])
    y = torch.arange(c["batch"]) % c["classes"]
    times = []
    cpu = []
    for i in range(c["warmup"] + c["steps"]):
        t0 = time.perf_counter()
        c0 = time.process_time()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        dc = time.process_time() - c0
        if i >= c["warmup"]:
            times.append(dt)
            cpu.append(dc)
    ms = statistics.median(times) * 1000
    # CPU time of every thread of the process: the work a step takes, which a busy machine does not inflate as much
    cpu_ms = statistics.median(cpu) * 1000
    return {"stepMs": round(ms, 1), "imagesPerSecond": round(c["batch"] / (ms / 1000), 3), "cpuMsPerStep": round(cpu_ms, 1), "steps": len(times)}


def main():
    c = json.loads(sys.argv[1])
    torch.set_num_threads(c["threads"])
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "methods": {}}
    for m in c["methods"]:
        out["methods"][m] = run(c, m)
        print(f"torch {m}: {out['methods'][m]}", file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
