-- Unique texts: every request carries messages no request of this run (or of any earlier run)
-- has sent, so a caching service can never answer from its cache (see texts.lua).
-- Script arguments: <bench directory> <nonce> [<size> | v2]; the nonce is fresh for every wrk
-- run. Without a size, each request POSTs {"text": ...} (to /prediction); with one, it POSTs
-- {"texts": [...]} with <size> messages (to /predictions); with "v2", an Open Inference
-- Protocol request with one message in its BYTES input "text" (to /v2/models/<name>/infer).
--
-- The response callback counts non-2xx answers and "X-Cache: hit" headers (a batch is a hit
-- only when every text was); done() prints the totals on a "bench-lua:" line that the harness
-- reads, to prove that no answer was a hit.
local threads = {}
local next_id = 1
local json_headers = { ["Content-Type"] = "application/json" }
local message
local size
local v2

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  threads[#threads + 1] = thread
end

function init(args)
  -- counters are globals: done() reads them with thread:get
  seen, bad, hits = 0, 0, 0
  message = dofile(args[1] .. "/texts.lua").generator(args[1], args[2], id)
  size = tonumber(args[3])
  v2 = args[3] == "v2"
end

function request()
  if v2 then
    return wrk.format("POST", nil, json_headers,
      '{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["' .. message() .. '"]}]}')
  end
  if size == nil then
    return wrk.format("POST", nil, json_headers, '{"text":"' .. message() .. '"}')
  end
  local texts = {}
  for i = 1, size do
    texts[i] = message()
  end
  return wrk.format("POST", nil, json_headers, '{"texts":["' .. table.concat(texts, '","') .. '"]}')
end

function response(status, headers, body)
  seen = seen + 1
  if status < 200 or status > 299 then
    bad = bad + 1
  end
  if (headers["x-cache"] or headers["X-Cache"]) == "hit" then
    hits = hits + 1
  end
end

function done(summary, latency, requests)
  local total_seen, total_bad, total_hits = 0, 0, 0
  for _, thread in ipairs(threads) do
    total_seen = total_seen + thread:get("seen")
    total_bad = total_bad + thread:get("bad")
    total_hits = total_hits + thread:get("hits")
  end
  io.write(string.format("bench-lua: responses=%d non2xx=%d cache_hits=%d\n",
    total_seen, total_bad, total_hits))
end
