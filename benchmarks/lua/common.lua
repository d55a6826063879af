-- Prepended to every scenario script by benchmarks/scenarios.py.
-- Environment: BENCH_TOKEN (a bearer token), BENCH_POSTS (how many seeded posts).
local token = os.getenv("BENCH_TOKEN")
local posts = tonumber(os.getenv("BENCH_POSTS") or "10000")
local threads = {}
local counter = 0
non2xx = 0
shed = 0  -- 503s (counted among non2xx too): the overload bench reports them apart
non2xx_codes = ""  -- "503 404 ...": rare, so a string (thread:get copies only plain values)

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

function init(args)
  math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919)
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if status == 503 then
      shed = shed + 1
    end
    if #non2xx_codes < 200 then
      non2xx_codes = non2xx_codes .. status .. " "
    end
  end
end

-- Must match benchmarks/seed.py: post_id(i).
function random_post_id()
  return string.format("00000000-0000-4000-8000-%012d", math.random(1, posts))
end

-- A body nobody sent before: thread, counter and a random number.
function fresh_content(what)
  counter = counter + 1
  return string.format('{"content": "%s %d-%d-%d"}', what, thread_id or 0, counter, math.random(1, 1000000000))
end

function done(summary, latency, requests)
  local bad, shed_all, codes = 0, 0, ""
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
    shed_all = shed_all + (thread:get("shed") or 0)
    codes = codes .. (thread:get("non2xx_codes") or "")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non2xx": %d, '
      .. '"connect": %d, "read": %d, "write": %d, "timeout": %d, "statuses": "%s", "shed": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), bad,
    e.connect, e.read, e.write, e.timeout, codes, shed_all))
end
