#!/usr/bin/env python3
"""Differential test: Ingot against llama.cpp on random shapes, weight types and token sequences.

    LLAMA_CPP_DIR=/path/to/llama.cpp/build/bin python3 tests/differential/differential.py [--arch all] [--seed S] [--cases N]

Per model: `ingot synth --arch FAMILY` writes a random-shape F32 model of a family, llama.cpp's `llama-quantize` turns it into a random weight
type (so the file is llama.cpp's own), and then, per token sequence, llama.cpp's logits (dumplogits: one batch, every
row, F32 KV cache) are compared with the logits of the Ingot executable built from that very file (`ingot run …
logits`, cached by the CLI's fingerprint). A case is one (model, sequence) pair. See README.md beside this file.

Python 3.11 standard library only. Not part of `dotnet test`: CI has no llama.cpp.
"""

from __future__ import annotations

import argparse
import array
import dataclasses
import json
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DUMPLOGITS_SRC = REPO.parent / "shared" / "tools" / "dumplogits.cpp"

# ---------------------------------------------------------------------------------------------------------------------
# Weight types and tolerances (../shared/golden/README.md, "Suggested acceptance thresholds")
# ---------------------------------------------------------------------------------------------------------------------

# The llama-quantize type names this script may ask for, and the comparison each is judged by:
#   ("maxabs", T): every logit within T of llama.cpp's;
#   ("cosine", C): every row's cosine ≥ C, and the argmax of all rows but one the same.
DEFAULT_TYPES = ["F32", "F16", "Q8_0", "Q4_0", "Q5_0", "Q4_1", "Q5_1", "Q4_K_M", "Q5_K_M", "Q6_K", "Q3_K_M"]
K_MIX = ("cosine", 0.9996)
TOLERANCES: dict[str, tuple[str, float]] = {
    "F32": ("maxabs", 1e-4),
    "F16": ("maxabs", 1e-2),   # llama.cpp rounds activations to F16 before every F16 matmul on CPU
    "BF16": ("maxabs", 1e-2),  # not in the golden README; assumed like F16 (activations rounded to BF16)
    "Q8_0": ("maxabs", 1e-3), "Q4_0": ("maxabs", 1e-3), "Q5_0": ("maxabs", 1e-3),
    "Q4_1": ("maxabs", 1e-3), "Q5_1": ("maxabs", 1e-3), "IQ4_NL": ("maxabs", 1e-3),
    "Q2_K": K_MIX, "Q3_K_S": K_MIX, "Q3_K_M": K_MIX, "Q3_K_L": K_MIX, "Q4_K_S": K_MIX, "Q4_K_M": K_MIX,
    "Q5_K_S": K_MIX, "Q5_K_M": K_MIX, "Q6_K": K_MIX, "IQ4_XS": K_MIX,
}

# The max-abs limits of the GELU families (gemma, gpt2, gptneox, starcoder2: ggml's GELU goes through an f16 table, so an
# input that rounds to the other f16 neighbour moves the output by an f16 ulp) and of Gemma 2 (26 layers, soft-caps),
# where they differ from the SiLU families' above. F32: ../shared/golden/README.md. The quantized ones: see README.md.
GROUP_LIMITS: dict[str, dict[str, float]] = {
    "gelu": {"F32": 2e-3},
    "gemma2": {"F32": 1e-2},
}


def tolerance(arch: "Architecture", weight_type: str) -> tuple[str, float]:
    kind, limit = TOLERANCES[weight_type]
    if kind == "maxabs": limit = GROUP_LIMITS.get(arch.group, {}).get(weight_type, limit)
    return kind, limit


# ggml_type ids -> names (ggml.h), for reading the tensor types a quantized file really holds.
GGML_TYPES = {0: "f32", 1: "f16", 2: "q4_0", 3: "q4_1", 6: "q5_0", 7: "q5_1", 8: "q8_0", 9: "q8_1", 10: "q2_K",
              11: "q3_K", 12: "q4_K", 13: "q5_K", 14: "q6_K", 15: "q8_K", 16: "iq2_xxs", 17: "iq2_xs", 18: "iq3_xxs",
              19: "iq1_s", 20: "iq4_nl", 21: "iq3_s", 22: "iq2_s", 23: "iq4_xs", 29: "iq1_m", 30: "bf16"}


# ---------------------------------------------------------------------------------------------------------------------
# Architectures: how a random shape is drawn and written. Add one by subclassing Architecture and registering it.
# ---------------------------------------------------------------------------------------------------------------------

THETAS = [10000.0, 10000.0, 500000.0, 1000000.0]
RMS_EPS = [1e-5, 1e-5, 1e-6, 1e-4, 3e-6]
LN_EPS = [1e-5, 1e-5, 1e-6, 1e-4]


def draw_dim(rng: random.Random, small: bool = False) -> int:
    """A multiple of 32; half the time 256, 512 or 768, so the K-quants apply without llama-quantize's fallback."""
    if small: return 256 if rng.random() < 0.3 else 32 * rng.randint(1, 6)
    return rng.choice([256, 512, 768]) if rng.random() < 0.5 else 32 * rng.randint(1, 20)


def draw_heads(rng: random.Random, dim: int) -> int:
    """Heads dividing dim with an even head_dim of 4..256, at most 16 of them."""
    return rng.choice([h for h in range(1, 17) if dim % h == 0 and (dim // h) % 2 == 0 and 4 <= dim // h <= 256])


def draw_ffn(rng: random.Random, small: bool = False) -> int:
    """A multiple of 32 (llama-quantize rejects legacy-quant rows that are not whole blocks)."""
    if small: return rng.choice([256, 512]) if rng.random() < 0.3 else 32 * rng.randint(1, 16)
    return rng.choice([256, 512, 768, 1024]) if rng.random() < 0.4 else 32 * rng.randint(1, 40)


def draw_vocab(rng: random.Random) -> int:
    r = rng.random()
    return 260 if r < 0.15 else 256 * rng.randint(2, 4) if r < 0.3 else rng.randint(260, 1200)


class Architecture:
    """One model family, written by `ingot synth --arch NAME`."""
    name = ""
    bos = 1
    # The tolerance group (see tolerance()): SiLU families, GELU families (ggml's f16 GELU table), or Gemma 2.
    group = "silu"
    # llama.cpp c392e50 has no such architecture and runs the family as this one (same tensors, keys renamed).
    twin: str | None = None

    def random_shape(self, rng: random.Random) -> dict:
        raise NotImplementedError

    def synth_args(self, shape: dict) -> list[str]:
        """Arguments of `ingot synth` (besides --arch, --type f32, --seed, --name, -o)."""
        raise NotImplementedError

    def vocab(self, shape: dict) -> int:
        return shape["vocab"]

    def describe(self, shape: dict) -> str:
        raise NotImplementedError


class Llama(Architecture):
    name = "llama"

    def random_shape(self, rng: random.Random) -> dict:
        dim = draw_dim(rng)
        heads = draw_heads(rng, dim)
        kv_heads = rng.choice([k for k in range(1, heads + 1) if heads % k == 0])
        ffn = draw_ffn(rng)
        vocab = draw_vocab(rng)
        theta = rng.choice(THETAS + [float(round(10 ** rng.uniform(2.0, 6.0)))])
        eps = rng.choice(RMS_EPS)
        return {
            "dim": dim, "heads": heads, "kv_heads": kv_heads, "head_dim": dim // heads, "ffn": ffn,
            "layers": rng.randint(1, 3), "vocab": vocab, "tied": rng.random() < 0.3,
            "rope_theta": theta, "rms_eps": eps, "ctx": rng.choice([64, 128, 256, 512, 2048]),
        }

    def synth_args(self, s: dict) -> list[str]:
        a = ["--dim", str(s["dim"]), "--layers", str(s["layers"]), "--heads", str(s["heads"]),
             "--kv-heads", str(s["kv_heads"]), "--ffn", str(s["ffn"]), "--vocab", str(s["vocab"]), "--ctx", str(s["ctx"]),
             "--rope-theta", repr(s["rope_theta"]), "--norm-eps", repr(s["rms_eps"])]
        return a + (["--tied"] if s["tied"] else [])

    def describe(self, s: dict) -> str:
        return (f"llama d{s['dim']} h{s['heads']}/{s['kv_heads']} hd{s['head_dim']} ffn{s['ffn']} L{s['layers']} "
                f"v{s['vocab']}{' tied' if s['tied'] else ''} θ{s['rope_theta']:g} eps{s['rms_eps']:g}")


class Family(Architecture):
    """Every other family: a random shape within llama.cpp's constraints on it, plus the family's own parameters."""
    free_head_dim = False     # head_dim may differ from dim / heads (llama.cpp declares the family's q/o by head_dim)
    layernorm = False         # LayerNorm with biases (its epsilon key), not RMSNorm
    rope = True
    tie = "optional"          # "optional" | "always" | "never" (what llama.cpp's loader allows)
    small = False             # many layers: keep the widths small
    layer_range = (1, 3)

    def random_shape(self, rng: random.Random) -> dict:
        dim = draw_dim(rng, self.small)
        if self.free_head_dim and rng.random() < 0.4:
            head_dim = rng.choice([16, 32, 64, 128])
            heads = rng.choice([h for h in range(1, 9) if h * head_dim % 32 == 0])
        else:
            heads = draw_heads(rng, dim)
            head_dim = dim // heads
        s = {
            "dim": dim, "heads": heads, "kv_heads": rng.choice([k for k in range(1, heads + 1) if heads % k == 0]),
            "head_dim": head_dim, "ffn": draw_ffn(rng, self.small), "layers": rng.randint(*self.layer_range),
            "vocab": draw_vocab(rng), "ctx": rng.choice([64, 128, 256, 512, 2048]),
            "eps": rng.choice(LN_EPS if self.layernorm else RMS_EPS),
        }
        if self.rope: s["rope_theta"] = rng.choice(THETAS + [float(round(10 ** rng.uniform(2.0, 6.0)))])
        if self.tie == "optional": s["tied"] = rng.random() < 0.3
        s.update(self.extras(rng, s))
        return s

    def extras(self, rng: random.Random, s: dict) -> dict:
        """The family's own parameters, drawn after the shape."""
        return {}

    def extra_args(self, s: dict) -> list[str]:
        return []

    def synth_args(self, s: dict) -> list[str]:
        a = ["--dim", str(s["dim"]), "--layers", str(s["layers"]), "--heads", str(s["heads"]), "--kv-heads", str(s["kv_heads"]),
             "--ffn", str(s["ffn"]), "--vocab", str(s["vocab"]), "--ctx", str(s["ctx"]), "--norm-eps", repr(s["eps"])]
        if s["head_dim"] != s["dim"] // s["heads"] or s["dim"] % s["heads"]: a += ["--head-dim", str(s["head_dim"])]
        if self.rope: a += ["--rope-theta", repr(s["rope_theta"])]
        if "tied" in s: a += ["--tied" if s["tied"] else "--untied"]
        return a + self.extra_args(s)

    def extra_describe(self, s: dict) -> str:
        return ""

    def describe(self, s: dict) -> str:
        return (f"{self.name} d{s['dim']} h{s['heads']}/{s['kv_heads']} hd{s['head_dim']} ffn{s['ffn']} L{s['layers']} "
                f"v{s['vocab']}{' tied' if s.get('tied') else ''}" + (f" θ{s['rope_theta']:g}" if self.rope else "")
                + f" eps{s['eps']:g}" + self.extra_describe(s))


class Qwen2(Family):
    name = "qwen2"


class Phi3(Family):
    name = "phi3"
    tie = "never"

    def extras(self, rng, s):  # half with a sliding window (on every layer), half without (Phi-4)
        return {"window": rng.randint(1, 16) if rng.random() < 0.5 else 0}

    def extra_args(self, s):
        return ["--window", str(s["window"])]

    def extra_describe(self, s):
        return f" swa{s['window']}" if s["window"] else ""


class Gemma(Family):
    name = "gemma"
    group = "gelu"
    free_head_dim = True
    tie = "always"


class Gemma2(Family):
    name = "gemma2"
    group = "gemma2"
    free_head_dim = True
    tie = "always"
    small = True
    layer_range = (26, 26)  # llama.cpp c392e50 aborts on any count but 26, 42 and 46

    def extras(self, rng, s):
        return {"window": rng.randint(1, 16), "attn_softcap": round(rng.uniform(5.0, 50.0), 2),
                "final_softcap": round(rng.uniform(3.0, 30.0), 2)}

    def extra_args(self, s):
        return ["--window", str(s["window"]), "--attn-softcap", repr(s["attn_softcap"]), "--final-softcap", repr(s["final_softcap"])]

    def extra_describe(self, s):
        return f" swa{s['window']} cap{s['attn_softcap']:g}/{s['final_softcap']:g}"


class Granite(Family):
    name = "granite"
    free_head_dim = True

    def extras(self, rng, s):
        return {"scales": [round(rng.uniform(0.5, 16.0), 3), round(rng.uniform(0.1, 1.0), 3),
                           round(rng.uniform(0.5, 2.0) / math.sqrt(s["head_dim"]), 5), round(rng.uniform(1.0, 16.0), 3)]}

    def extra_args(self, s):
        e, r, a, lg = s["scales"]
        return ["--embedding-scale", repr(e), "--residual-scale", repr(r), "--attention-scale", repr(a), "--logit-scale", repr(lg)]

    def extra_describe(self, s):
        return " ×" + "/".join(f"{x:g}" for x in s["scales"])


class Gpt2(Family):
    name = "gpt2"
    group = "gelu"
    layernorm = True
    rope = False
    tie = "never"

    def extras(self, rng, s):  # position_embd has ctx rows; every sequence fits in 64
        return {"ctx": rng.choice([64, 128, 256])}


class GptNeoX(Family):
    name = "gptneox"
    group = "gelu"
    layernorm = True
    tie = "never"

    def extras(self, rng, s):  # partial rotary: any even count up to head_dim
        return {"rope_dims": 2 * rng.randint(1, s["head_dim"] // 2), "parallel": rng.random() < 0.6}

    def extra_args(self, s):
        return ["--rope-dims", str(s["rope_dims"]), "--residual", "parallel" if s["parallel"] else "sequential"]

    def extra_describe(self, s):
        return f" rot{s['rope_dims']} {'par' if s['parallel'] else 'seq'}"


class StarCoder2(Family):
    name = "starcoder2"
    group = "gelu"
    layernorm = True


class Ernie45(Family):
    name = "ernie4_5"
    free_head_dim = True
    twin = "llama"


ARCHITECTURES: dict[str, Architecture] = {a.name: a for a in [
    Llama(), Qwen2(), Phi3(), Gemma(), Gemma2(), Granite(), Gpt2(), GptNeoX(), StarCoder2(), Ernie45()]}


# ---------------------------------------------------------------------------------------------------------------------
# Plan: everything random is drawn here, up front, from one seed, so a run is reproducible case by case.
# ---------------------------------------------------------------------------------------------------------------------

def random_sequence(rng: random.Random, vocab: int, bos: int) -> list[int]:
    r = rng.random()
    n = 1 if r < 0.07 else rng.randint(2, 8) if r < 0.3 else rng.randint(9, 40)
    seq = [bos] + [rng.randrange(vocab) for _ in range(n - 1)]
    if n > 1:
        # The extremes of the embedding table, and repeats, sometimes.
        if rng.random() < 0.5: seq[rng.randrange(1, n)] = vocab - 1
        if rng.random() < 0.4: seq[rng.randrange(1, n)] = 0
        if rng.random() < 0.3 and n > 2:
            i = rng.randrange(2, n)
            seq[i] = seq[rng.randrange(1, i)]
    return seq


def make_plan(seed: int, cases: int, per_model: int, types: list[str], archs: list[Architecture]) -> list[dict]:
    """Models take the architectures in turn; each architecture draws its types from its own shuffled order (every type
    once before any twice), so architectures × types models cover every pair."""
    rng = random.Random(seed)
    n_models = max(1, math.ceil(cases / per_model))
    orders: dict[str, list[str]] = {a.name: [] for a in archs}
    models = []
    left = cases
    first = 0
    for m in range(n_models):
        arch = archs[m % len(archs)]
        order = orders[arch.name]
        if not order:
            order.extend(types)
            rng.shuffle(order)
        shape = arch.random_shape(rng)
        k = min(per_model, left)
        left -= k
        models.append({
            "index": m, "first_case": first, "arch": arch.name, "shape": shape, "type": order.pop(),
            "synth_seed": rng.randrange(1, 2**31),
            "sequences": [random_sequence(rng, arch.vocab(shape), arch.bos) for _ in range(k)],
        })
        first += k
    return models


# ---------------------------------------------------------------------------------------------------------------------
# Files: a GGUF header reader (tensor types only) and the logits format (int32 rows, int32 cols, float32[rows][cols])
# ---------------------------------------------------------------------------------------------------------------------

class GgufHeader:
    """A GGUF file's header: every metadata entry as (key, value type, raw value bytes), every tensor info as (name, ggml
    type, raw info bytes after the name), and where the (aligned) data section starts."""

    SCALAR = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def __init__(self, path: Path):
        self.path = path
        with open(path, "rb") as f:
            head = f.read(1 << 24)
        try:
            self._parse(head)
        except struct.error:  # a header larger than 16 MiB
            self._parse(path.read_bytes())

    def _parse(self, b: bytes) -> None:
        pos = 0

        def rd(fmt):
            nonlocal pos
            v = struct.unpack_from("<" + fmt, b, pos)
            pos += struct.calcsize("<" + fmt)
            return v

        def rd_str():
            nonlocal pos
            (n,) = rd("Q")
            if pos + n > len(b): raise struct.error("short")
            pos += n
            return b[pos - n:pos].decode("utf-8", "replace")

        def skip_value(t):
            nonlocal pos
            if t == 8:
                rd_str()
            elif t == 9:
                et, n = rd("IQ")
                if et in self.SCALAR:
                    pos += struct.calcsize("<" + self.SCALAR[et]) * n
                else:
                    for _ in range(n): skip_value(et)
            else:
                pos += struct.calcsize("<" + self.SCALAR[t])

        magic, self.version = rd("4sI")
        if magic != b"GGUF": raise ValueError(f"{self.path}: not a GGUF file")
        n_tensors, n_kv = rd("QQ")
        self.kv: list[tuple[str, int, bytes]] = []
        for _ in range(n_kv):
            key = rd_str()
            (t,) = rd("I")
            start = pos
            skip_value(t)
            if pos > len(b): raise struct.error("short")
            self.kv.append((key, t, b[start:pos]))
        self.tensors: list[tuple[str, int, bytes]] = []
        for _ in range(n_tensors):
            name = rd_str()
            start = pos
            (nd,) = rd("I")
            rd("Q" * nd)
            t, _off = rd("IQ")
            self.tensors.append((name, t, b[start:pos]))
        align = next((struct.unpack("<I", raw)[0] for k, t, raw in self.kv if k == "general.alignment" and t == 4), 32)
        self.data_offset = -(-pos // align) * align
        self.align = align


def gguf_tensor_types(path: Path) -> dict[str, str]:
    return {name: GGML_TYPES.get(t, f"type{t}") for name, t, _ in GgufHeader(path).tensors}


def gguf_rename_arch(src: Path, dst: Path, old: str, new: str) -> None:
    """Copies a GGUF with general.architecture `new` and every `old.*` key renamed `new.*`; tensor infos and data are
    copied byte for byte (tensor offsets count from the aligned data section). ERNIE 4.5's llama twin, and back."""
    h = GgufHeader(src)

    def gstr(x: str) -> bytes:
        e = x.encode("utf-8")
        return struct.pack("<Q", len(e)) + e

    out = bytearray(b"GGUF" + struct.pack("<IQQ", h.version, len(h.tensors), len(h.kv)))
    for key, t, raw in h.kv:
        if key == "general.architecture": raw = gstr(new)
        if key.startswith(old + "."): key = new + key[len(old):]
        out += gstr(key) + struct.pack("<I", t) + raw
    for name, _t, raw in h.tensors:
        out += gstr(name) + raw
    out += bytes(-len(out) % h.align)
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        fo.write(out)
        fi.seek(h.data_offset)
        shutil.copyfileobj(fi, fo, 1 << 20)


def read_logits(path: Path) -> tuple[int, int, array.array]:
    data = path.read_bytes()
    rows, cols = struct.unpack("<ii", data[:8])
    a = array.array("f")
    a.frombytes(data[8:])
    if sys.byteorder != "little": a.byteswap()
    if len(a) != rows * cols: raise ValueError(f"{path}: {len(a)} floats, header says {rows} x {cols}")
    return rows, cols, a


def compare(ref: Path, got: Path) -> dict:
    r_rows, r_cols, a = read_logits(ref)
    g_rows, g_cols, b = read_logits(got)
    if (r_rows, r_cols) != (g_rows, g_cols):
        return {"error": f"shape {g_rows}x{g_cols}, llama.cpp {r_rows}x{r_cols}"}
    max_abs, worst_row, min_cos, top1 = 0.0, 0, 1.0, 0
    finite, row_max_abs = True, []
    for r in range(r_rows):
        x = a[r * r_cols:(r + 1) * r_cols]
        y = b[r * r_cols:(r + 1) * r_cols]
        if not all(math.isfinite(v) for v in y):
            finite = False
        d = max(abs(p - q) for p, q in zip(x, y))
        row_max_abs.append(d)
        if not d <= max_abs:  # NaN-safe: a NaN difference becomes the maximum
            max_abs, worst_row = d, r
        dot = sum(p * q for p, q in zip(x, y))
        nx = math.sqrt(sum(p * p for p in x))
        ny = math.sqrt(sum(q * q for q in y))
        cos = dot / (nx * ny) if nx > 0 and ny > 0 else (1.0 if nx == ny else 0.0)
        min_cos = min(min_cos, cos) if math.isfinite(cos) else -1.0
        top1 += max(range(r_cols), key=x.__getitem__) == max(range(r_cols), key=y.__getitem__)
    return {"rows": r_rows, "cols": r_cols, "max_abs": max_abs, "worst_row": worst_row, "min_cos": min_cos,
            "top1": top1, "finite": finite, "row_max_abs": row_max_abs, "ref_max": max(map(abs, a), default=0.0)}


def judge(kind: str, limit: float, m: dict) -> bool:
    if "error" in m or not m["finite"]: return False
    if kind == "maxabs": return m["max_abs"] <= limit
    return m["min_cos"] >= limit and m["top1"] >= m["rows"] - 1


# ---------------------------------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------------------------------

class ToolError(Exception):
    pass


def run(cmd: list[str], timeout: float, env: dict | None = None) -> subprocess.CompletedProcess:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise ToolError(f"timed out after {timeout:.0f} s: {' '.join(cmd[:3])} …")
    if p.returncode != 0:
        tail = "\n".join((p.stderr or p.stdout).strip().splitlines()[-15:])
        raise ToolError(f"exit {p.returncode}: {' '.join(cmd)}\n{tail}")
    return p


def resolve_llama_cpp(d: str, out: Path) -> tuple[Path, Path]:
    """LLAMA_CPP_DIR may be the build/bin folder or the llama.cpp root (then build/bin under it). Returns the paths of
    llama-quantize and dumplogits; dumplogits is compiled from ../shared/tools/dumplogits.cpp when absent."""
    root = Path(d).resolve()
    for bin_dir in [root, root / "build" / "bin", root / "bin"]:
        if (bin_dir / "llama-quantize").is_file(): break
    else:
        raise ToolError(f"LLAMA_CPP_DIR={d}: no llama-quantize in it, nor in build/bin under it")
    dumplogits = bin_dir / "dumplogits"
    if dumplogits.is_file(): return bin_dir / "llama-quantize", dumplogits
    dumplogits = out / "dumplogits"
    if dumplogits.is_file(): return bin_dir / "llama-quantize", dumplogits
    src_root = next((p for p in [root, bin_dir.parent.parent] if (p / "include" / "llama.h").is_file()), None)
    if src_root is None or not DUMPLOGITS_SRC.is_file():
        raise ToolError(f"no dumplogits in {bin_dir}, and cannot compile {DUMPLOGITS_SRC} (needs the llama.cpp root "
                        "with include/llama.h); build it as its header says")
    print(f"compiling {dumplogits} from {DUMPLOGITS_SRC}", flush=True)
    run(["g++", "-O2", "-std=c++17", str(DUMPLOGITS_SRC), f"-I{src_root / 'include'}", f"-I{src_root / 'ggml' / 'include'}",
         f"-L{bin_dir}", "-lllama", "-lggml", "-lggml-base", f"-Wl,-rpath,{bin_dir}", "-o", str(dumplogits)], 600)
    return bin_dir / "llama-quantize", dumplogits


def resolve_ingot(given: str | None) -> list[str]:
    """The `ingot` command: --ingot / $INGOT_CLI (an apphost or an ingot.dll), else src/Ingot.Cli built in Release."""
    if given:
        p = Path(given).resolve()
        if not p.is_file(): raise ToolError(f"ingot not found: {p}")
        return ["dotnet", str(p)] if p.suffix == ".dll" else [str(p)]
    proj = REPO / "src" / "Ingot.Cli" / "Ingot.Cli.csproj"
    print("building src/Ingot.Cli (Release) …", flush=True)
    run(["dotnet", "build", str(proj), "-c", "Release", "-nologo", "-v:q"], 900)
    p = run(["dotnet", "msbuild", str(proj), "-nologo", "-getProperty:TargetPath", "-p:Configuration=Release"], 120)
    dll = Path(p.stdout.strip().splitlines()[-1])
    if not dll.is_file(): raise ToolError(f"built Ingot.Cli but found no {dll}")
    return ["dotnet", str(dll)]


# ---------------------------------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Tools:
    ingot: list[str]
    quantize: Path
    dumplogits: Path
    env: dict
    threads: int


def prepare_model(model: dict, arch: Architecture, tools: Tools, work: Path) -> tuple[Path, Path]:
    """`ingot synth` writes the F32 file, llama-quantize the compared one. Returns (the file Ingot reads, the file
    llama.cpp reads): the same file, except for a family llama.cpp knows only as its twin (ERNIE 4.5 as llama), which
    is renamed to the twin, quantized, and the quantized file renamed back."""
    f32 = work / "synth.f32.gguf"  # the input; never the name of the output (F32 is a type too)
    out = work / f"model.{model['type'].lower()}.gguf"
    run(tools.ingot + ["synth", "--arch", arch.name, *arch.synth_args(model["shape"]), "--type", "f32",
                       "--seed", str(model["synth_seed"]), "--name", "diff", "-o", str(f32)], 300, tools.env)
    reference = out
    if arch.twin:
        twin = work / f"synth.f32.{arch.twin}-twin.gguf"
        gguf_rename_arch(f32, twin, arch.name, arch.twin)
        f32.unlink()
        f32, reference = twin, work / f"model.{model['type'].lower()}.{arch.twin}-twin.gguf"
    run([str(tools.quantize), str(f32), str(reference), model["type"], str(tools.threads)], 300)
    f32.unlink()
    if arch.twin: gguf_rename_arch(reference, out, arch.twin, arch.name)
    return out, reference


def ingot_logits(tools: Tools, gguf: Path, tokens: list[int], out: Path, timeout: float) -> None:
    run(tools.ingot + ["run", "--name", "diff", str(gguf), "logits", "--tokens", " ".join(map(str, tokens)),
                       "-o", str(out), "-t", str(tools.threads)], timeout, tools.env)


def short_types(types: dict[str, str]) -> str:
    seen = sorted({t for n, t in types.items() if t != "f32" or not n.endswith("norm.weight")})
    return ",".join(seen)


def keep_failure(fail_dir: Path, model: dict, gguf: Path, reference: Path, case: dict, work: Path, tools: Tools) -> None:
    d = fail_dir / f"m{model['index']:02d}-{model['arch']}-{model['type'].lower()}"
    d.mkdir(parents=True, exist_ok=True)
    kept, kept_ref = d / gguf.name, d / reference.name
    for src, dst in [(gguf, kept), (reference, kept_ref)]:
        if not dst.exists(): shutil.copy2(src, dst)
    stem = f"case{case['case']:03d}"
    (d / f"{stem}.tokens.txt").write_text(" ".join(map(str, case["tokens"])) + "\n")
    for name in ["llama.bin", "ingot.bin"]:
        src = work / f"{stem}.{name}"
        if src.exists(): shutil.copy2(src, d / f"{stem}.{name}")
    (d / f"{stem}.json").write_text(json.dumps({**case, "model": model}, indent=1) + "\n")
    ingot = " ".join(tools.ingot)
    cache = tools.env["INGOT_CACHE"]
    (d / f"{stem}.repro.sh").write_text(
        "#!/bin/sh\n# llama.cpp's logits, then Ingot's, for this case (run from this folder)\n"
        f"{tools.dumplogits} {kept_ref.name} \"$(cat {stem}.tokens.txt)\" {stem}.llama.bin\n"
        f"INGOT_CACHE=${{INGOT_CACHE:-{cache}}} {ingot} run --name diff {kept.name} logits --tokens \"$(cat {stem}.tokens.txt)\" -o {stem}.ingot.bin "
        f"-t {tools.threads}\n")


def fmt_line(case: dict) -> str:
    m = case.get("metrics", {})
    kind, limit = case["tolerance"]
    if "error" in case:
        detail = "ERROR " + case["error"].splitlines()[0][:160]
    elif "error" in m:
        detail = "ERROR " + m["error"]
    else:
        detail = (f"max-abs {m['max_abs']:.2e} | min-cos {m['min_cos']:.6f} | top-1 {m['top1']}/{m['rows']}"
                  + ("" if m["finite"] else " | NON-FINITE")
                  + (f" | rows > {limit:g}: {sum(not d <= limit for d in m['row_max_abs'])}"
                     if kind == "maxabs" and not case["pass"] else ""))
    return (f"case {case['case']:3d} m{case['model_index']:02d} {case['describe']} | {case['type']} [{case['tensor_types']}]"
            f" | len {len(case['tokens'])} | {detail} | {'PASS' if case['pass'] else 'FAIL'}")


def summarize(results: list[dict], elapsed: float) -> str:
    lines = ["", "summary by family and requested type:",
             f"  {'family':10} {'type':7} {'cases':>5} {'fail':>4} {'worst max-abs':>13} {'min cos':>9} {'top-1':>9}  tolerance"]
    arch_order, type_order = list(ARCHITECTURES), list(TOLERANCES)
    keys = sorted({(r.get("arch", "llama"), r["type"]) for r in results},
                  key=lambda k: (arch_order.index(k[0]) if k[0] in arch_order else 99, type_order.index(k[1]) if k[1] in type_order else 99))
    for a, t in keys:
        rs = [r for r in results if r.get("arch", "llama") == a and r["type"] == t]
        ms = [r["metrics"] for r in rs if "metrics" in r and "error" not in r["metrics"]]
        kind, lim = rs[0]["tolerance"]
        tol = f"max-abs ≤ {lim:g}" if kind == "maxabs" else f"cos ≥ {lim:g}, top-1 all but one row"
        worst = f"{max(m['max_abs'] for m in ms):.2e}" if ms else "-"
        mcos = f"{min(m['min_cos'] for m in ms):.6f}" if ms else "-"
        top = f"{sum(m['top1'] for m in ms)}/{sum(m['rows'] for m in ms)}" if ms else "-"
        lines.append(f"  {a:10} {t:7} {len(rs):5d} {sum(not r['pass'] for r in rs):4d} {worst:>13} {mcos:>9} {top:>9}  {tol}")
    n_fail = sum(not r["pass"] for r in results)
    lines.append(f"{len(results)} cases, {len(results) - n_fail} passed, {n_fail} failed, "
                 f"{len({r['model_index'] for r in results})} models, {elapsed:.0f} s")
    return "\n".join(lines)


def rejudge(path: Path) -> int:
    """Judges a results.jsonl again with today's tolerances and prints the summary (thresholds are a choice; the metrics
    are kept)."""
    results = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for r in results:
        r["tolerance"] = list(tolerance(ARCHITECTURES[r.get("arch", "llama")], r["type"]))
        r["pass"] = "error" not in r and judge(*r["tolerance"], r["metrics"])
    for r in results:
        if not r["pass"]: print(fmt_line(r))
    print(summarize(results, 0))
    return 1 if any(not r["pass"] for r in results) else 0


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="LLAMA_CPP_DIR: llama.cpp's build/bin folder (llama-quantize, dumplogits) or the "
                                        "llama.cpp root with build/bin under it. Unset: prints 'skipped' and exits 0.")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=8, help="number of (model, sequence) cases (default 8)")
    ap.add_argument("--seqs-per-model", type=int, default=4,
                    help="token sequences per model file; each model costs one NativeAOT build (~1 min) (default 4)")
    ap.add_argument("--types", default=",".join(DEFAULT_TYPES),
                    help="comma-separated llama-quantize types to draw from (default: %(default)s); known: "
                         + ",".join(TOLERANCES))
    ap.add_argument("--arch", default="llama",
                    help="the families to draw, comma-separated, or 'all'; models take them in turn (default llama); known: "
                         + ",".join(ARCHITECTURES))
    ap.add_argument("--only", default="", help="comma-separated model indices to run (from the same plan)")
    ap.add_argument("--out", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "ingot-differential"),
                    help="output folder: failures/, results.jsonl, cache/ (default: %(default)s)")
    ap.add_argument("--llama-cpp", default=os.environ.get("LLAMA_CPP_DIR"), help="overrides $LLAMA_CPP_DIR")
    ap.add_argument("--ingot", default=os.environ.get("INGOT_CLI"),
                    help="the ingot tool (apphost or ingot.dll); default: build src/Ingot.Cli in Release ($INGOT_CLI)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keep-all", action="store_true", help="keep every case's files, not only failing ones")
    ap.add_argument("--plan", action="store_true", help="print the plan (shapes, types, sequences) and exit")
    ap.add_argument("--rejudge", metavar="RESULTS_JSONL", help="judge a results.jsonl again with today's tolerances, print the summary and exit")
    args = ap.parse_args(argv)
    if args.rejudge: return rejudge(Path(args.rejudge))

    types = [t.strip().upper() for t in args.types.split(",") if t.strip()]
    unknown = [t for t in types if t not in TOLERANCES]
    if unknown: ap.error(f"unknown type(s) {','.join(unknown)}; known: {','.join(TOLERANCES)}")
    names = list(ARCHITECTURES) if args.arch == "all" else [a.strip() for a in args.arch.split(",") if a.strip()]
    if any(a not in ARCHITECTURES for a in names): ap.error(f"unknown --arch {args.arch}; known: all,{','.join(ARCHITECTURES)}")
    plan = make_plan(args.seed, args.cases, args.seqs_per_model, types, [ARCHITECTURES[a] for a in names])
    if args.only:
        keep = {int(i) for i in args.only.split(",")}
        plan = [m for m in plan if m["index"] in keep]
    if args.plan:
        for m in plan:
            print(f"m{m['index']:02d} {ARCHITECTURES[m['arch']].describe(m['shape'])} {m['type']} lens {[len(s) for s in m['sequences']]}")
        return 0

    if not args.llama_cpp:
        print("skipped: LLAMA_CPP_DIR not set (llama.cpp's build/bin folder, or its root with build/bin)")
        return 0

    t0 = time.monotonic()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    fail_dir = out / "failures"
    if fail_dir.exists(): shutil.rmtree(fail_dir)
    work_root = out / "work"
    try:
        quantize, dumplogits = resolve_llama_cpp(args.llama_cpp, out)
        ingot = resolve_ingot(args.ingot)
    except ToolError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    env = dict(os.environ, INGOT_CACHE=str(out / "cache"), INGOT_REPO=str(REPO))
    tools = Tools(ingot, quantize, dumplogits, env, args.threads)
    print(f"seed {args.seed}, {sum(len(m['sequences']) for m in plan)} cases on {len(plan)} models; "
          f"llama.cpp {quantize.parent}; ingot {' '.join(ingot)}; output {out}", flush=True)

    results: list[dict] = []
    with open(out / "results.jsonl", "w") as log:
        for model in plan:
            work = work_root / f"m{model['index']:02d}"
            if work.exists(): shutil.rmtree(work)
            work.mkdir(parents=True)
            arch = ARCHITECTURES[model["arch"]]
            desc = arch.describe(model["shape"])
            kind, limit = tolerance(arch, model["type"])
            setup_error, gguf, reference, tensor_types = None, None, None, "?"
            try:
                gguf, reference = prepare_model(model, arch, tools, work)
                tensor_types = short_types(gguf_tensor_types(gguf))
                tb = time.monotonic()
                print(f"-- m{model['index']:02d} {desc} {model['type']} [{tensor_types}]: building …", end="", flush=True)
                run(tools.ingot + ["run", "--name", "diff", str(gguf), "info"], 1800, env)
                print(f" {time.monotonic() - tb:.0f} s", flush=True)
            except ToolError as e:
                print(flush=True)
                setup_error = str(e)
            for case_no, tokens in enumerate(model["sequences"], model["first_case"]):
                case = {"case": case_no, "model_index": model["index"], "arch": arch.name, "describe": desc, "type": model["type"],
                        "tensor_types": tensor_types, "tokens": tokens, "tolerance": [kind, limit]}
                stem = f"case{case['case']:03d}"
                if setup_error:
                    case["error"] = setup_error
                else:
                    try:
                        run([str(dumplogits), str(reference), " ".join(map(str, tokens)), str(work / f"{stem}.llama.bin")], 300)
                        ingot_logits(tools, gguf, tokens, work / f"{stem}.ingot.bin", 300)
                        case["metrics"] = compare(work / f"{stem}.llama.bin", work / f"{stem}.ingot.bin")
                    except (ToolError, ValueError) as e:
                        case["error"] = str(e)
                case["pass"] = "error" not in case and judge(kind, limit, case["metrics"])
                print(fmt_line(case), flush=True)
                log.write(json.dumps(case) + "\n")
                log.flush()
                results.append(case)
                if (not case["pass"] or args.keep_all) and gguf is not None and gguf.exists():
                    keep_failure(fail_dir, model, gguf, reference, case, work, tools)
            shutil.rmtree(work, ignore_errors=True)
            # The CLI's cache keeps each executable beside its ~130 MB build tree; the executable is all a rerun needs.
            for build in (out / "cache").glob("*/build"):
                if (build.parent / "complete").exists(): shutil.rmtree(build, ignore_errors=True)
    shutil.rmtree(work_root, ignore_errors=True)
    print(summarize(results, time.monotonic() - t0))
    if any(not r["pass"] for r in results):
        print(f"failing cases' files (GGUF, tokens, both logits, repro.sh): {fail_dir}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
