#!/usr/bin/env python3
"""fake_model.py — a fake model provider and webhook receiver for tests and benchmarks.

Python 3 standard library only (asyncio streams, so thousands of calls can be in flight).
One server answers:

* Gemini  `POST …/models/{model}:generateContent`  (reference/providers.md shapes)
* OpenAI  `POST …/chat/completions`                 (OpenAI, Ollama, llama.cpp, vLLM shapes)
* any other path: a webhook receiver (the engine's `http` handler, the CRM actions)
* `/_…`: control endpoints (below)

Run:  fake_model.py [--host 127.0.0.1] [--port 0] [--role both|model|webhook]
                    [--max-records 100000] [--port-file PATH]
It prints `fake_model listening on http://HOST:PORT` once ready (and writes the port to
--port-file when given).

Model behaviour, per request, from the first of:
  1. the control script (`POST /_control {"script": ["429", "429", "text"]}`: one entry
     consumed per model request),
  2. markers in the system or user text: `[[fake: 429 retry_after=2 times=2 delay=1000]]`,
     or the same syntax in an `X-Fake` request header,
  3. the control defaults (`POST /_control {"mode": "text", "delay_ms": 1000, …}`).
Modes: text (default), json, thought, multipart, length, nousage, empty, safety,
safety-prompt, refusal, badjson, garbage, null (the JSON body `null`), hang, cut, cutbody, and an HTTP status such as
429, 500, 503, 400, 403, 404 (answered in the provider's error format; 429/503 carry
Retry-After). Options: delay=MS, times=N (the mode applies to the first N requests with the
same Idempotency-Key and prompt, later ones answer normally), retry_after=S,
tokens=IN,OUT[,THOUGHTS], text=WORD (in JSON mode the answer's JSON text itself). JSON output is answered whenever the request asks for
it (responseMimeType application/json, response_format json_object/json_schema), or `json`.

The answer text is the control's `text`, else `echo: <user text>`; the JSON answer is the
control's `json`, else {"ok": true, "model", "system", "user"}. Token counts are words:
prompt = words of system + user, output = words of the answer (at least 1 each).

Webhook behaviour from query parameters (or the control's `hook` defaults / `hook_script`):
status=N (default 200), retry_after=S, delay=MS, times=N, body=TEXT (raw answer), echo=1
(answer the received JSON), location=URL (for 3xx). Default answer: {"ok": true}.

Control:
  GET  /_requests[?path=SUBSTR&kind=gemini|openai|webhook]  {"requests": [...]}, oldest first;
       each {"id", "kind", "method", "path", "query", "headers" (lower-case names), "body",
       "json", "time", "mode"}
  DELETE /_requests, POST /_reset   forget requests, counters, control settings and script
  GET  /_count                      {"count": recorded, "total": seen since the last reset}
  GET/POST /_control                read / merge the defaults described above
  GET  /_health                     {"ok": true}
"""
import argparse
import asyncio
import collections
import json
import re
import resource
import sys
import time
import urllib.parse

GEMINI_PATH = re.compile(r"/models/([^/:]+):generateContent$")
OPENAI_PATH = re.compile(r"/chat/completions$")
MARKER = re.compile(r"\[\[fake:(.*?)\]\]", re.S)
REASONS = {100: "Continue", 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
           301: "Moved Permanently", 302: "Found", 307: "Temporary Redirect",
           400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 408: "Request Timeout", 409: "Conflict",
           413: "Payload Too Large", 422: "Unprocessable Entity", 425: "Too Early",
           429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout"}
GEMINI_STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
DEFAULT_CONTROL = {"mode": "text", "delay_ms": 0, "retry_after": 1, "text": None, "json": None,
                   "usage": None, "hook": {}}


class Drop(Exception):
    """Close the connection without an answer."""


class State:
    def __init__(self, max_records):
        self.max_records = max_records
        self.reset()

    def reset(self):
        self.records = collections.deque(maxlen=self.max_records or None)
        self.total = 0
        self.next_id = 1
        self.counters = collections.Counter()
        self.control = json.loads(json.dumps(DEFAULT_CONTROL))
        self.script = collections.deque()
        self.hook_script = collections.deque()


def words(s):
    return max(1, len(s.split())) if s else 1


def parse_directives(text):
    """'429 retry_after=2 times=2' -> ('429', {'retry_after': '2', 'times': '2'})."""
    mode, opts = None, {}
    for tok in text.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            opts[k.strip().lower()] = v.strip()
        elif tok:
            mode = tok.strip().lower()
    return mode, opts


def texts(parts):
    out = []
    for p in parts or []:
        if isinstance(p, dict) and isinstance(p.get("text"), str):
            out.append(p["text"])
    return "".join(out)


def read_gemini(body):
    gc = body.get("generationConfig") or body.get("generation_config") or {}
    si = body.get("systemInstruction") or body.get("system_instruction") or {}
    system = texts(si.get("parts")) if isinstance(si, dict) else ""
    user = "".join(texts(c.get("parts")) for c in body.get("contents") or []
                   if isinstance(c, dict))
    mime = gc.get("responseMimeType") or gc.get("response_mime_type") if isinstance(gc, dict) \
        else None
    return system, user, mime == "application/json"


def read_openai(body):
    system, user = [], []
    for m in body.get("messages") or []:
        if not isinstance(m, dict):
            continue
        c = m.get("content")
        if isinstance(c, list):
            c = texts(c)
        if not isinstance(c, str):
            continue
        (system if m.get("role") in ("system", "developer") else user).append(c)
    rf = body.get("response_format")
    json_mode = isinstance(rf, dict) and rf.get("type") in ("json_object", "json_schema")
    return "\n".join(system), "\n".join(user), json_mode


def error_body(kind, status):
    if kind == "gemini":
        return {"error": {"code": status, "message": f"fake {status}",
                          "status": GEMINI_STATUS.get(status, "UNKNOWN")}}
    return {"error": {"message": f"fake {status}", "type": "fake_error", "code": status}}


class Server:
    def __init__(self, args):
        self.role = args.role
        self.state = State(args.max_records)

    # ---- HTTP plumbing ----
    async def handle(self, reader, writer):
        try:
            while True:
                req = await self.read_request(reader, writer)
                if req is None:
                    break
                try:
                    status, headers, body = await self.dispatch(req, reader, writer)
                except Drop:
                    break
                keep = req["headers"].get("connection", "").lower() != "close"
                await self.write(writer, status, headers, body, keep)
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError):
            pass
        finally:
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - the peer may be gone already
                pass

    async def read_request(self, reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        if headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                body += await reader.readexactly(size)
                await reader.readexactly(2)
        else:
            body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
        url = urllib.parse.urlsplit(target)
        return {"method": method, "path": url.path, "query": url.query, "headers": headers,
                "body": body}

    async def write(self, writer, status, headers, body, keep=True):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        head = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}",
                f"Content-Length: {len(body)}",
                "Connection: " + ("keep-alive" if keep else "close")]
        head += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()

    # ---- routing ----
    async def dispatch(self, req, reader, writer):
        path = req["path"]
        if path.startswith("/_"):
            return self.control(req)
        m = GEMINI_PATH.search(path)
        kind = "gemini" if m else "openai" if OPENAI_PATH.search(path) else "webhook"
        if self.role == "model" and kind == "webhook":
            return 404, {}, {"error": "no such path"}
        if self.role == "webhook":
            kind = "webhook"
        record = self.record(req, kind)
        if kind == "webhook":
            return await self.webhook(req, record, reader)
        return await self.model(req, record, kind, m.group(1) if m else None, reader, writer)

    def record(self, req, kind):
        st = self.state
        st.total += 1
        text = req["body"].decode("utf-8", "replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        rec = {"id": st.next_id, "kind": kind, "method": req["method"], "path": req["path"],
               "query": req["query"], "headers": req["headers"], "body": text, "json": parsed,
               "time": time.time(), "mode": None}
        st.next_id += 1
        if st.max_records:
            st.records.append(rec)
        return rec

    def control(self, req):
        st, path, method = self.state, req["path"], req["method"]
        if path == "/_health":
            return 200, {}, {"ok": True}
        if path == "/_count":
            return 200, {}, {"count": len(st.records), "total": st.total}
        if path == "/_reset" or (path == "/_requests" and method == "DELETE"):
            st.reset()
            return 200, {}, {"ok": True}
        if path == "/_requests":
            q = urllib.parse.parse_qs(req["query"])
            out = [r for r in st.records
                   if (not q.get("path") or q["path"][0] in r["path"])
                   and (not q.get("kind") or q["kind"][0] == r["kind"])]
            return 200, {}, {"requests": out}
        if path == "/_control":
            if method == "POST":
                try:
                    upd = json.loads(req["body"] or b"{}")
                except ValueError:
                    return 400, {}, {"error": "control body must be JSON"}
                if not isinstance(upd, dict):
                    return 400, {}, {"error": "control body must be an object"}
                st.script.extend(str(x) for x in upd.pop("script", []) or [])
                st.hook_script.extend(upd.pop("hook_script", []) or [])
                st.control.update(upd)
            return 200, {}, dict(st.control, script=list(st.script),
                                 hook_script=list(st.hook_script))
        return 404, {}, {"error": "unknown control path"}

    async def hold(self, reader):
        """A hang: answer nothing until the client gives up and closes."""
        try:
            while await reader.read(65536):
                pass
        except ConnectionError:
            pass
        raise Drop()

    # ---- model ----
    async def model(self, req, rec, kind, path_model, reader, writer):
        st = self.state
        body = rec["json"]
        if req["method"] != "POST":
            return 405, {"Allow": "POST"}, error_body(kind, 405)
        if not isinstance(body, dict):
            return 400, {}, error_body(kind, 400)
        if kind == "gemini":
            system, user, json_mode = read_gemini(body)
            model = path_model
        else:
            system, user, json_mode = read_openai(body)
            model = body.get("model") or ""
        ctl = st.control
        mode, opts = None, {}
        found = MARKER.findall(system + "\n" + user)
        marker_text = " ".join(found) + " " + req["headers"].get("x-fake", "")
        if marker_text.strip():
            mode, opts = parse_directives(marker_text)
        if st.script:
            mode = st.script.popleft().lower()
        if mode is None:
            mode = str(ctl.get("mode") or "text").lower()
        if "times" in opts:  # one count per call site: same key, same prompt
            key = (req["headers"].get("idempotency-key", ""), system, user,
                   req["headers"].get("x-fake", ""))
            st.counters[key] += 1
            if st.counters[key] > int(opts["times"]):
                mode = "text"
        rec["mode"] = mode
        delay = float(opts.get("delay", ctl.get("delay_ms") or 0)) / 1000.0
        if delay > 0:
            await asyncio.sleep(delay)
        retry_after = str(opts.get("retry_after", ctl.get("retry_after", 1)))

        if mode == "hang":
            await self.hold(reader)
        if mode == "cut":
            raise Drop()
        if mode == "garbage":
            return 200, {"Content-Type": "application/json"}, "<<fake garbage, not JSON>>"
        if mode == "null":
            return 200, {"Content-Type": "application/json"}, "null"
        if mode.isdigit():
            status = int(mode)
            extra = {"Retry-After": retry_after} if status in (429, 503) else {}
            return status, extra, error_body(kind, status)

        json_mode = json_mode or mode == "json"
        if mode == "badjson":
            answer = "this is not json {"
        elif json_mode and "text" in opts:  # a JSON text of the test's choosing: text=true
            answer = opts["text"]
        elif json_mode:
            answer = json.dumps(ctl.get("json") if ctl.get("json") is not None else
                                {"ok": True, "model": model, "system": system, "user": user})
        else:
            answer = opts.get("text") or ctl.get("text") or f"echo: {user}"
        usage = dict(ctl.get("usage") or {})
        if "tokens" in opts:
            nums = [int(x) for x in opts["tokens"].split(",") if x.strip()]
            usage = dict(zip(("prompt", "output", "thoughts"), nums))
        p_tok = int(usage.get("prompt", words(system + " " + user)))
        o_tok = int(usage.get("output", words(answer)))
        t_tok = int(usage.get("thoughts", 7 if mode == "thought" else 0))
        if kind == "gemini":
            out = self.gemini_answer(mode, model, answer, p_tok, o_tok, t_tok)
        else:
            out = self.openai_answer(mode, model, answer, p_tok, o_tok)
        if mode == "cutbody":  # the headers and half the body, then the connection closes
            data = json.dumps(out).encode()
            writer.write((f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(data)}\r\n\r\n").encode() + data[:len(data) // 2])
            await writer.drain()
            raise Drop()
        return 200, {"Content-Type": "application/json"}, out

    @staticmethod
    def gemini_answer(mode, model, answer, p_tok, o_tok, t_tok):
        usage = {"promptTokenCount": p_tok, "candidatesTokenCount": o_tok,
                 "totalTokenCount": p_tok + o_tok + t_tok}
        if t_tok:
            usage["thoughtsTokenCount"] = t_tok
        out = {"modelVersion": model, "responseId": "fake-" + str(int(time.time() * 1e6))}
        if mode != "nousage":
            out["usageMetadata"] = usage
        if mode == "safety-prompt":
            out["promptFeedback"] = {"blockReason": "SAFETY", "safetyRatings": []}
            out["usageMetadata"] = {"promptTokenCount": p_tok, "totalTokenCount": p_tok}
            return out
        if mode == "empty":
            out["candidates"] = []
            return out
        if mode == "safety":
            out["candidates"] = [{"finishReason": "SAFETY", "index": 0, "safetyRatings": [
                {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH",
                 "blocked": True}]}]
            return out
        parts = [{"text": answer}]
        if mode == "multipart" and len(answer) > 1:
            half = len(answer) // 2
            parts = [{"text": answer[:half]}, {"text": answer[half:]}]
        if mode == "thought":
            parts = [{"text": "fake thinking, not the answer", "thought": True}] + parts
        out["candidates"] = [{"content": {"role": "model", "parts": parts},
                              "finishReason": "MAX_TOKENS" if mode == "length" else "STOP",
                              "index": 0}]
        return out

    @staticmethod
    def openai_answer(mode, model, answer, p_tok, o_tok):
        msg = {"role": "assistant", "content": answer}
        finish = "stop"
        if mode in ("empty", "safety", "safety-prompt"):
            msg["content"] = None
            finish = "stop" if mode == "empty" else "content_filter"
        elif mode == "refusal":
            msg["content"] = None
            msg["refusal"] = "I can't help with that."
        elif mode == "length":
            finish = "length"
        out = {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
               "model": model, "choices": [{"index": 0, "message": msg,
                                            "finish_reason": finish}]}
        if mode != "nousage":
            out["usage"] = {"prompt_tokens": p_tok, "completion_tokens": o_tok,
                            "total_tokens": p_tok + o_tok}
        return out

    # ---- webhook ----
    async def webhook(self, req, rec, reader):
        st = self.state
        q = {k: v[0] for k, v in urllib.parse.parse_qs(req["query"]).items()}
        opts = dict(st.control.get("hook") or {})
        if st.hook_script:
            item = st.hook_script.popleft()
            opts.update(item if isinstance(item, dict) else {"status": item})
        opts.update(q)
        status = int(opts.get("status", 200))
        if "times" in opts:
            key = ("hook", req["path"], req["headers"].get("idempotency-key", ""))
            st.counters[key] += 1
            if st.counters[key] > int(opts["times"]):
                status = 200
                opts.pop("body", None)
        rec["mode"] = str(status)
        delay = float(opts.get("delay", opts.get("delay_ms", 0)) or 0) / 1000.0
        if delay > 0:
            await asyncio.sleep(delay)
        if opts.get("hang"):
            await self.hold(reader)
        if opts.get("cut"):
            raise Drop()
        headers = {}
        if status in (429, 503) or "retry_after" in opts:
            headers["Retry-After"] = str(opts.get("retry_after", 1))
        if 300 <= status < 400:
            headers["Location"] = opts.get("location", "http://127.0.0.1:9/elsewhere")
        if "body" in opts:
            headers["Content-Type"] = opts.get("ctype", "text/plain")
            return status, headers, str(opts["body"])
        if opts.get("echo") and rec["json"] is not None:
            return status, headers, rec["json"]
        return status, headers, {"ok": status < 400, "status": status}


async def serve(args):
    srv = Server(args)

    server = await asyncio.start_server(srv.handle, args.host, args.port, backlog=4096,
                                        limit=16 * 1024 * 1024, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        with open(args.port_file, "w") as f:
            f.write(str(port))
    print(f"fake_model listening on http://{args.host}:{port}", flush=True)
    async with server:
        await server.serve_forever()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--role", choices=["both", "model", "webhook"], default="both")
    ap.add_argument("--max-records", type=int, default=100000,
                    help="requests kept for /_requests (0: keep none, count only)")
    ap.add_argument("--port-file")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
