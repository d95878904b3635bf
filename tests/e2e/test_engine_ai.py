"""AI steps end to end (ENGINE.md "Step handlers", ai; reference/providers.md): prompts in
MariaDB rendered with the run's context, sent by `aiengine work` to tests/fakes/fake_model.py
speaking Gemini `generateContent` and OpenAI `chat/completions`, checked at the fake (what was
sent: system, user, generationConfig, JSON mode, the key header, Idempotency-Key) and in
MariaDB (log rows, tokens, exact cost, the run's sums, retries). The fake's behaviour per call
comes from `[[fake: …]]` markers in the prompt text. One stack and one `aiengine work` for the
module; short backoff and step timeout; generous polling deadlines (shared machine)."""
import json
import os
import time
from decimal import Decimal

import pytest
import requests

from engine_helpers import engine_stack, fake_server, engine_env, fire, logs, mkflow, q, uniq, wait_status

GEMINI_KEY = "gk-test-0123456789-secret"
OPENAI_KEY = "sk-test-abcdef-secret"
PRICED = "gemini-2.5-flash-preview-05-20"  # etc/engine.yaml: 0.15 in, 0.60 out per 1M
LOCAL = "llama3.1:8b"  # no price; the `local` provider ("*"), no key
TIMEOUT_S = 3


def runner_env(fake, **kw):
    env = {"AIENGINE_PROVIDER_GEMINI_URL": fake.url + "/v1beta",
           "AIENGINE_PROVIDER_OPENAI_URL": fake.url + "/v1",
           "AIENGINE_PROVIDER_LOCAL_URL": fake.url + "/v1",
           "GEMINI_API_KEY": GEMINI_KEY,
           "OPENAI_API_KEY": OPENAI_KEY,
           "AIENGINE_ENGINE_STEP_TIMEOUT_SECONDS": TIMEOUT_S,
           "AIENGINE_ENGINE_RETRY_BACKOFF_SECONDS": 1}
    env.update(kw)
    return engine_env(fake, **env)


@pytest.fixture(scope="module")
def fake():
    yield from fake_server()


@pytest.fixture(scope="module")
def eng(fake):
    yield from engine_stack("aiengine-ai-", runner_env(fake))


def mkprompt(stack, text, model=PRICED, gc=None, tv=None, status="active"):
    return int(stack.sql(
        "INSERT INTO prompts (name, version, system_prompt_text, model_name, generation_config, "
        "template_variables, status, created_at, updated_at) VALUES "
        f"({q(uniq('prompt'))}, 1, {q(text)}, {q(model)}, {q(gc)}, {q(tv)}, {q(status)}, "
        "NOW(), NOW()); SELECT LAST_INSERT_ID();")[0][0])


def sent(fake, run_id, step_id, kind=None):
    """The model requests made for one step, oldest first."""
    params = {"kind": kind} if kind else {}
    r = requests.get(fake.url + "/_requests", params=params, timeout=10).json()["requests"]
    key = f"run-{run_id}-step-{step_id}"
    return [x for x in r if x["kind"] in ("gemini", "openai")
            and x["headers"].get("idempotency-key") == key]


def one_step(eng, text, model=PRICED, config=None, gc=None, tv=None, status="active",
             context=None):
    pid = mkprompt(eng, text, model=model, gc=gc, tv=tv, status=status)
    ev = uniq()
    _, (sid,) = mkflow(eng, ev, [{"type": "AI_PROMPT", "prompt_id": pid, "config": config}])
    [d] = fire(eng, ev, obj="lead-1", context=context or {"lead_name": "Ana"})["data"]
    return d["id"], sid


def run_sums(eng, run_id):
    tok, cost = eng.sql(f"SELECT token_usage, cost FROM workflow_runs WHERE id = {run_id}")[0]
    return int(tok), Decimal(cost)


def cost_of(inp, out):
    """The reference arithmetic: USD (in × 0.15 + out × 0.60) / 10^6, half up to 6 places."""
    micro = Decimal(inp) * Decimal("0.15") + Decimal(out) * Decimal("0.60")
    return (micro / Decimal(10) ** 6).quantize(Decimal("0.000001"), rounding="ROUND_HALF_UP")


# ---------------------------------------------------------------- the happy paths

def test_gemini_json_output_feeds_the_crm_step(eng, fake):
    pid = mkprompt(eng, "You write to {{lead_name}} at {{ company }}. [[fake: tokens=1000,2000,500]]",
                   gc={"temperature": 0.2, "maxOutputTokens": 512},
                   tv=["lead_name", "company"])
    ev = uniq()
    _, (s1, s2) = mkflow(eng, ev, [
        {"type": "AI_PROMPT", "prompt_id": pid,
         "config": {"output": "json", "input": "Lead {{lead_name}} scored {{score}}",
                    "save_as": "ai"}},
        {"type": "UPDATE_CRM_FIELD",
         "config": {"field": "summary", "value": "{{ steps.1.user }}", "model": "{{ai.model}}"}},
    ])
    ctx = {"lead_name": "Ana", "company": "Acme", "score": 71}
    [d] = fire(eng, ev, obj="lead-42", context=ctx)["data"]
    r = wait_status(eng, d["id"], ["succeeded", "failed"])
    assert r["status"] == "succeeded", logs(eng, d["id"])
    ls = logs(eng, d["id"])
    assert [l["status"] for l in ls] == ["SUCCESS", "SUCCESS"]

    system = "You write to Ana at Acme. [[fake: tokens=1000,2000,500]]"
    user = "Lead Ana scored 71"
    [call] = sent(fake, d["id"], s1)
    assert call["kind"] == "gemini"
    assert call["path"] == f"/v1beta/models/{PRICED}:generateContent"
    assert call["headers"]["x-goog-api-key"] == GEMINI_KEY
    assert "authorization" not in call["headers"]
    assert call["headers"]["content-type"] == "application/json"
    assert call["json"] == {
        "systemInstruction": {"parts": [{"text": system}]},
        "contents": [{"role": "user", "parts": [{"text": user}]}],
        "generationConfig": {"temperature": 0.2, "maxOutputTokens": 512,
                             "responseMimeType": "application/json"},
    }

    ai = ls[0]
    assert ai["input_context"] == {"provider": "gemini", "model": PRICED, "system": system,
                                   "user": user,
                                   "generation_config": {"temperature": 0.2,
                                                         "maxOutputTokens": 512}}
    answer = {"ok": True, "model": PRICED, "system": system, "user": user}
    assert ai["parsed_output"] == answer
    raw = ai["raw_output"]
    assert json.loads(raw["candidates"][0]["content"]["parts"][0]["text"]) == answer
    assert raw["usageMetadata"] == {"promptTokenCount": 1000, "candidatesTokenCount": 2000,
                                    "thoughtsTokenCount": 500, "totalTokenCount": 3500}
    # thinking is billed as output: 1000 × 0.15 + 2500 × 0.60 = 1650 micro-dollars
    assert int(ai["token_usage"]) == 3500
    assert Decimal(ai["cost"]) == Decimal("0.001650") == cost_of(1000, 2500)
    assert ai["error_message"] is None

    crm = ls[1]
    assert crm["input_context"]["url"] == fake.url + "/actions/update-field"
    assert crm["input_context"]["body"]["config"] == {"field": "summary", "value": user,
                                                      "model": PRICED}
    assert crm["token_usage"] is None and crm["cost"] is None
    assert r["context"]["steps"]["1"] == answer == r["context"]["ai"]
    assert run_sums(eng, d["id"]) == (3500, Decimal("0.001650"))


def test_openai_format_text_from_the_context_input(eng, fake):
    rid, sid = one_step(eng, "Be brief, {{lead_name}}.", model=LOCAL,
                        gc={"temperature": 0.3, "top_p": 0.9, "max_output_tokens": 100,
                            "candidateCount": 1},
                        context={"lead_name": "Ana", "score": 7})
    r = wait_status(eng, rid, ["succeeded", "failed"])
    assert r["status"] == "succeeded", logs(eng, rid)
    [call] = sent(fake, rid, sid)
    assert call["kind"] == "openai" and call["path"] == "/v1/chat/completions"
    assert "authorization" not in call["headers"]  # the local provider takes no key
    user = json.dumps({"lead_name": "Ana", "score": 7}, separators=(",", ":"))
    assert call["json"] == {
        "model": LOCAL,
        "messages": [{"role": "system", "content": "Be brief, Ana."},
                     {"role": "user", "content": user}],
        "temperature": 0.3, "top_p": 0.9, "max_tokens": 100,
    }
    [l] = logs(eng, rid)
    assert l["input_context"]["provider"] == "local"
    assert l["input_context"]["user"] == user
    assert l["parsed_output"] == {"text": "echo: " + user}
    assert l["raw_output"]["choices"][0]["message"]["content"] == "echo: " + user
    usage = l["raw_output"]["usage"]
    assert int(l["token_usage"]) == usage["total_tokens"] > 0
    assert l["cost"] is None  # the model has no price
    assert run_sums(eng, rid) == (usage["total_tokens"], Decimal(0))


def test_openai_json_mode_and_bearer_key(eng, fake):
    rid, sid = one_step(eng, "Classify. [[fake: tokens=10,20]]", model="gpt-4o-mini",
                        config={"output": "json", "input": "{{lead_name}}"},
                        gc={"maxOutputTokens": 64})
    r = wait_status(eng, rid, ["succeeded", "failed"])
    assert r["status"] == "succeeded", logs(eng, rid)
    [call] = sent(fake, rid, sid)
    assert call["headers"]["authorization"] == "Bearer " + OPENAI_KEY
    assert call["json"]["response_format"] == {"type": "json_object"}
    assert call["json"]["max_tokens"] == 64 and "temperature" not in call["json"]
    [l] = logs(eng, rid)
    assert l["input_context"]["provider"] == "openai"
    assert l["parsed_output"] == {"ok": True, "model": "gpt-4o-mini",
                                  "system": "Classify. [[fake: tokens=10,20]]", "user": "Ana"}
    assert int(l["token_usage"]) == 30 and l["cost"] is None


def test_gemini_thought_parts_are_not_text_and_are_billed(eng, fake):
    rid, sid = one_step(eng, "Think. [[fake: thought tokens=10,20,30]]")
    wait_status(eng, rid, "succeeded")
    [l] = logs(eng, rid)
    assert l["parsed_output"] == {"text": 'echo: {"lead_name":"Ana"}'}
    parts = l["raw_output"]["candidates"][0]["content"]["parts"]
    assert parts[0]["thought"] is True and len(parts) == 2
    # (10 × 0.15 + 50 × 0.60) / 10^6 = 0.0000315 → half up → 0.000032
    assert int(l["token_usage"]) == 60
    assert Decimal(l["cost"]) == Decimal("0.000032") == cost_of(10, 50)
    assert run_sums(eng, rid) == (60, Decimal("0.000032"))


def test_gemini_multipart_text_is_joined(eng, fake):
    rid, sid = one_step(eng, "Parts. [[fake: multipart text=abcdefgh]]")
    wait_status(eng, rid, "succeeded")
    [l] = logs(eng, rid)
    parts = l["raw_output"]["candidates"][0]["content"]["parts"]
    assert [p["text"] for p in parts] == ["abcd", "efgh"]
    assert l["parsed_output"] == {"text": "abcdefgh"}


def test_no_usage_means_null_tokens_and_cost(eng, fake):
    rid, sid = one_step(eng, "Quiet. [[fake: nousage]]")
    wait_status(eng, rid, "succeeded")
    [l] = logs(eng, rid)
    assert l["token_usage"] is None and l["cost"] is None
    assert run_sums(eng, rid) == (0, Decimal(0))


def test_usage_past_the_columns_is_unknown_not_a_stuck_run(eng, fake):
    """A provider that reports more tokens than execution_logs.token_usage (int) holds: the
    step's commit used to fail, leaving the run claimed and 'running' with the answer lost
    (and the model called again once the lease ran out). The answer is kept, the figures
    the log cannot hold are unknown, the run succeeds after one call."""
    rid, sid = one_step(eng, "Huge. [[fake: tokens=3000000000,5]]")
    r = wait_status(eng, rid, ["succeeded", "failed"])
    assert r["status"] == "succeeded", r
    [l] = logs(eng, rid)
    assert l["status"] == "SUCCESS" and l["parsed_output"] is not None
    assert l["raw_output"]["usageMetadata"]["promptTokenCount"] == 3000000000
    assert l["token_usage"] is None and l["cost"] is None
    assert run_sums(eng, rid) == (0, Decimal(0))
    assert len(sent(fake, rid, sid)) == 1


def test_run_totals_saturate_at_their_columns(eng, fake):
    """Two steps of 2,000,000,000 tokens each: every log holds its own figure, and the run's
    total (int) stops at its largest value instead of failing the second step's commit."""
    pid = mkprompt(eng, "Big. [[fake: tokens=2000000000,0]]")
    ev = uniq()
    mkflow(eng, ev, [{"type": "AI_PROMPT", "prompt_id": pid}, {"type": "AI_PROMPT", "prompt_id": pid}])
    [d] = fire(eng, ev, obj="lead-1", context={"lead_name": "Ana"})["data"]
    r = wait_status(eng, d["id"], ["succeeded", "failed"])
    assert r["status"] == "succeeded", r
    assert [int(l["token_usage"]) for l in logs(eng, d["id"])] == [2000000000, 2000000000]
    assert run_sums(eng, d["id"]) == (2147483647, 2 * cost_of(2000000000, 0))


# ---------------------------------------------------------------- retryable failures

def retried_then_ok(eng, fake, marker, error, wait=60, model=PRICED, config=None):
    rid, sid = one_step(eng, f"Hello. [[fake: {marker}]]", model=model, config=config)
    r = wait_status(eng, rid, ["succeeded", "failed"], timeout=wait)
    ls = logs(eng, rid)
    assert r["status"] == "succeeded", ls
    assert [l["status"] for l in ls] == ["RETRY", "SUCCESS"]
    assert error(ls[0]["error_message"]), ls[0]["error_message"]
    assert ls[1]["error_message"] is None and r["error_message"] is None
    calls = sent(fake, rid, sid)
    assert len(calls) == 2
    assert calls[0]["json"] == calls[1]["json"]  # the same request again
    return rid, ls, calls


def test_429_with_retry_after_then_success(eng, fake):
    rid, ls, calls = retried_then_ok(
        eng, fake, "429 retry_after=3 times=1",
        lambda m: m == "HTTP 429 from the provider: fake 429")
    assert ls[0]["raw_output"]["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert ls[0]["token_usage"] is None and ls[0]["cost"] is None
    # Retry-After (3 s) beats the 1 s backoff
    assert calls[1]["time"] - calls[0]["time"] >= 2.5


def test_500_retries_until_attempts_run_out(eng, fake):
    rid, sid = one_step(eng, "Hello. [[fake: 500 times=9]]", model=LOCAL)
    r = wait_status(eng, rid, ["succeeded", "failed"], timeout=90)
    ls = logs(eng, rid)
    assert r["status"] == "failed"
    assert [l["status"] for l in ls] == ["RETRY", "RETRY", "FAILURE"]
    for l in ls:
        assert l["error_message"] == "HTTP 500 from the provider: fake 500"
        assert l["raw_output"] == {"error": {"message": "fake 500", "type": "fake_error",
                                             "code": 500}}
    assert r["error_message"] == "HTTP 500 from the provider: fake 500"
    assert r["finished_at"] is not None
    assert len(sent(fake, rid, sid)) == 3


def test_hang_times_out_then_succeeds(eng, fake):
    rid, ls, _ = retried_then_ok(eng, fake, "hang times=1",
                                 lambda m: m == f"timed out after {TIMEOUT_S} s", wait=90)
    assert ls[0]["raw_output"] is None and ls[0]["token_usage"] is None
    assert int(ls[0]["duration_ms"]) >= TIMEOUT_S * 1000 - 100


def test_cut_connection_is_retried(eng, fake):
    # libcurl itself resends once when a reused connection turns out dead, so a single cut
    # may never be seen: cut every time and look at the rows
    rid, sid = one_step(eng, "Hello. [[fake: cut times=99]]",
                        config={"retry": {"attempts": 2, "backoff_seconds": 1}})
    r = wait_status(eng, rid, ["succeeded", "failed"], timeout=60)
    ls = logs(eng, rid)
    assert r["status"] == "failed", ls
    assert [l["status"] for l in ls] == ["RETRY", "FAILURE"]
    for l in ls:
        assert l["error_message"].startswith("connection failed: "), l["error_message"]
        assert l["raw_output"] is None and l["token_usage"] is None
    assert len(sent(fake, rid, sid)) >= 2


def test_cut_body_is_retried(eng, fake):
    retried_then_ok(eng, fake, "cutbody times=1", lambda m: m.startswith("connection failed: "))


def test_garbage_is_retried_and_kept_as_text(eng, fake):
    _, ls, _ = retried_then_ok(eng, fake, "garbage times=1",
                               lambda m: m == "the provider's answer is not a JSON object")
    assert ls[0]["raw_output"] == "<<fake garbage, not JSON>>"


def test_a_null_body_is_retried_and_kept_as_text(eng, fake):
    # the body `null` parses to no JSON object; the log used to record no raw output at all
    # (found by fuzz_openai_answer)
    _, ls, _ = retried_then_ok(eng, fake, "null times=1",
                               lambda m: m == "the provider's answer is not a JSON object")
    assert ls[0]["raw_output"] == "null"


@pytest.mark.parametrize("model", [PRICED, LOCAL])
def test_an_answer_with_no_text_is_retried_and_its_tokens_count(eng, fake, model):
    rid, ls, _ = retried_then_ok(eng, fake, "empty times=1 tokens=100,3", model=model,
                                 error=lambda m: m == "the provider's answer has no text")
    assert int(ls[0]["token_usage"]) == 103 and int(ls[1]["token_usage"]) == 103
    if model == PRICED:
        each = cost_of(100, 3)  # 15 + 1.8 micro-dollars = 0.0000168 → 0.000017
        assert Decimal(ls[0]["cost"]) == Decimal(ls[1]["cost"]) == each == Decimal("0.000017")
        assert run_sums(eng, rid) == (206, Decimal("0.000034"))
    else:
        assert ls[0]["cost"] is None
        assert run_sums(eng, rid) == (206, Decimal(0))


@pytest.mark.parametrize("model", [PRICED, LOCAL])
def test_json_mode_answer_may_be_a_bare_scalar(eng, fake, model):
    # a yes/no question answered `true`: one JSON value like any other; it used to be taken
    # for text that is not JSON (json-c waits for what follows a number or literal) and the
    # step was retried until it failed
    rid, sid = one_step(eng, "Qualified? [[fake: text=true]]", model=model,
                        config={"output": "json"})
    r = wait_status(eng, rid, ["succeeded", "failed"])
    assert r["status"] == "succeeded", logs(eng, rid)
    [l] = logs(eng, rid)
    assert l["parsed_output"] is True
    assert r["context"]["steps"]["1"] is True
    assert len(sent(fake, rid, sid)) == 1


@pytest.mark.parametrize("model", [PRICED, LOCAL])
def test_json_mode_answer_that_is_not_json_is_retried(eng, fake, model):
    rid, ls, calls = retried_then_ok(eng, fake, "badjson times=1 tokens=5,5", model=model,
                                     config={"output": "json"},
                                     error=lambda m: m == "the model's answer is not valid JSON")
    assert ls[0]["parsed_output"] is None and int(ls[0]["token_usage"]) == 10
    assert ls[1]["parsed_output"]["ok"] is True
    assert run_sums(eng, rid)[0] == 20


# ---------------------------------------------------------------- permanent failures

def failed_once(eng, rid, message):
    r = wait_status(eng, rid, ["succeeded", "failed"])
    ls = logs(eng, rid)
    assert r["status"] == "failed", ls
    [l] = ls
    assert (l["status"], l["error_message"]) == ("FAILURE", message)
    assert r["error_message"] == message
    return l


@pytest.mark.parametrize("marker,model", [("safety", PRICED), ("safety-prompt", PRICED),
                                          ("safety", LOCAL)])
def test_safety_blocks_fail_without_retry(eng, fake, marker, model):
    rid, sid = one_step(eng, f"Bad. [[fake: {marker} tokens=40,0]]", model=model)
    l = failed_once(eng, rid, "blocked by the provider: SAFETY")
    assert len(sent(fake, rid, sid)) == 1
    assert l["token_usage"] is not None and int(l["token_usage"]) == 40
    assert run_sums(eng, rid)[0] == 40
    if model == PRICED:
        assert Decimal(l["cost"]) == cost_of(40, 0) == Decimal("0.000006")


@pytest.mark.parametrize("model", [PRICED, LOCAL])
def test_400_is_permanent_with_the_providers_message(eng, fake, model):
    rid, sid = one_step(eng, "Hello. [[fake: 400]]", model=model)
    l = failed_once(eng, rid, "HTTP 400 from the provider: fake 400")
    assert l["raw_output"]["error"]["message"] == "fake 400"
    assert len(sent(fake, rid, sid)) == 1


def test_archived_and_missing_prompts_fail_before_any_call(eng, fake):
    rid, sid = one_step(eng, "Old.", status="archived")
    pid = eng.sql(f"SELECT prompt_id FROM workflow_steps WHERE id = {sid}")[0][0]
    failed_once(eng, rid, f"prompt {pid} is archived")
    assert sent(fake, rid, sid) == []
    ev = uniq()
    _, (s2,) = mkflow(eng, ev, [{"type": "AI_PROMPT"}])
    [d] = fire(eng, ev)["data"]
    failed_once(eng, d["id"], "no prompt (prompt_id is null)")


def test_missing_template_variables_fail_before_any_call(eng, fake):
    rid, sid = one_step(eng, "Hi {{lead_name}}", tv=["lead_name", "company"])
    failed_once(eng, rid, 'template variable "company" is missing')
    rid2, sid2 = one_step(eng, "Hi {{lead_name}} at {{company}}")
    failed_once(eng, rid2, 'template variable "company" is missing')
    # a present null counts as present
    rid3, sid3 = one_step(eng, "Hi {{company}}", tv=["company"],
                          context={"company": None})
    wait_status(eng, rid3, "succeeded")
    assert sent(fake, rid3, sid3)[0]["json"]["systemInstruction"]["parts"][0]["text"] == "Hi null"
    assert sent(fake, rid, sid) == [] and sent(fake, rid2, sid2) == []


def test_missing_key_fails_before_any_call(eng, fake):
    eng.stop_work()
    try:
        eng.start_work(runner_env(fake, GEMINI_API_KEY=""), name="work-nokey")
        rid, sid = one_step(eng, "Hello {{lead_name}}.")
        l = failed_once(eng, rid, 'no API key for provider "gemini": GEMINI_API_KEY is not set')
        assert l["input_context"]["provider"] == "gemini"
        assert l["raw_output"] is None and l["token_usage"] is None
        time.sleep(0.5)
        assert sent(fake, rid, sid) == []
    finally:
        eng.stop_work(name="work-nokey")
        eng.start_work(runner_env(fake))
    rid, sid = one_step(eng, "Back.")
    wait_status(eng, rid, "succeeded")


def test_sums_over_several_steps_and_rows(eng, fake):
    p1 = mkprompt(eng, "One. [[fake: 503 retry_after=1 times=1 tokens=7,9]]")
    p2 = mkprompt(eng, "Two. [[fake: empty times=1 tokens=123,456,789]]")
    p3 = mkprompt(eng, "Three. [[fake: tokens=333,333]]", model=LOCAL)
    ev = uniq()
    mkflow(eng, ev, [{"type": "AI_PROMPT", "prompt_id": p} for p in (p1, p2, p3)])
    [d] = fire(eng, ev)["data"]
    r = wait_status(eng, d["id"], ["succeeded", "failed"], timeout=90)
    ls = logs(eng, d["id"])
    assert r["status"] == "succeeded", ls
    assert [l["status"] for l in ls] == ["RETRY", "SUCCESS", "RETRY", "SUCCESS", "SUCCESS"]
    tokens = [int(l["token_usage"]) if l["token_usage"] else 0 for l in ls]
    assert tokens == [0, 16, 123 + 456 + 789, 123 + 456 + 789, 666]
    costs = [Decimal(l["cost"]) if l["cost"] else Decimal(0) for l in ls]
    assert costs == [0, cost_of(7, 9), cost_of(123, 1245), cost_of(123, 1245), 0]
    assert run_sums(eng, d["id"]) == (sum(tokens), sum(costs))
    # 6.45 µ$ → 0.000006; 765.45 µ$ → 0.000765, twice (rounded per row, then summed)
    assert sum(costs) == Decimal("0.001536")


def test_the_keys_are_never_logged_or_stored(eng, fake):
    rows = eng.sql("SELECT COUNT(*) FROM execution_logs WHERE CONCAT_WS(' ', input_context, "
                   "raw_output, parsed_output, error_message) LIKE "
                   f"{q('%' + GEMINI_KEY[:12] + '%')} OR CONCAT_WS(' ', input_context, "
                   f"raw_output, parsed_output, error_message) LIKE {q('%' + OPENAI_KEY[:12] + '%')}")
    assert rows == [["0"]]
    assert int(eng.sql("SELECT COUNT(*) FROM execution_logs WHERE input_context LIKE "
                       "'%\"provider\"%'")[0][0]) > 10
    for name in ("work.log", "work-nokey.log"):
        path = os.path.join(eng.logdir, name)
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                text = f.read()
            assert GEMINI_KEY[:12] not in text and OPENAI_KEY[:12] not in text
