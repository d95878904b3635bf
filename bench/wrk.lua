-- bench/wrk.lua — the one wrk script every benchmark run uses (driven by bench/bench.py).
--
-- Environment:
--   BENCH_SPEC   file of requests, one per line: METHOD <TAB> PATH [<TAB> JSON BODY]
--                each connection's requests cycle through the lines in order
--   BENCH_TOKEN  bearer token sent on every request (empty: no Authorization header)
--   BENCH_OUT    where done() writes one JSON object with the counts and latency percentiles
--
--   BENCH_SEED   first value of {n} (see below); the driver passes a new one per run
--   BENCH_DELAY_MS  when set, each connection waits this many ms after an answer before its
--                next request: a paced load below saturation (latency at a fixed load)
--
-- Requests are formatted once in init(), so request() only hands out a prepared string;
-- in a body containing {n}, {n} becomes a 10-digit counter, new for every request, so
-- that every PATCH really changes the row (an unchanged row skips the UPDATE).

local spec_path = os.getenv("BENCH_SPEC")
local token = os.getenv("BENCH_TOKEN") or ""
local out_path = os.getenv("BENCH_OUT")
local counter = tonumber(os.getenv("BENCH_SEED") or "0") or 0

local pace_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pace_ms then
   -- wrk looks for delay() once the script is loaded: defined only for a paced run
   function delay() return pace_ms end
end

local reqs = {}
local n = 0

function init(args)
   for line in io.lines(spec_path) do
      local method, path, body = line:match("^(%u+)\t([^\t]+)\t?(.*)$")
      if method then
         local h = { ["Accept"] = "application/json" }
         if token ~= "" then h["Authorization"] = "Bearer " .. token end
         if body == "" then
            body = nil
         else
            h["Content-Type"] = "application/json"
         end
         if body and body:find("{n}", 1, true) then
            -- format once with a 10-character marker (so Content-Length stays right), then
            -- keep the text before and after it: request() only concatenates
            local marker = "@@@@@@@@@@"
            local text = wrk.format(method, path, h, (body:gsub("{n}", marker)))
            local at = text:find(marker, 1, true)
            reqs[#reqs + 1] = { text:sub(1, at - 1), text:sub(at + #marker) }
         else
            reqs[#reqs + 1] = wrk.format(method, path, h, body)
         end
      end
   end
   if #reqs == 0 then error("no requests in " .. tostring(spec_path)) end
end

function request()
   n = n % #reqs + 1
   local r = reqs[n]
   if type(r) == "string" then return r end
   counter = counter + 1
   return r[1] .. string.format("%010d", counter) .. r[2]
end

function done(summary, latency, requests)
   local e = summary.errors
   local f = assert(io.open(out_path, "w"))
   f:write(string.format(
      '{"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
      '"max_us":%d,"mean_us":%.1f,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
      '"status_errors":%d,"timeouts":%d}\n',
      summary.requests, summary.duration, summary.bytes, latency:percentile(50),
      latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
      e.connect, e.read, e.write, e.status, e.timeout))
   f:close()
end
