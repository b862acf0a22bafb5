-- wrk script for bench/ledger.sh: each request POSTs a royalty transfer under a fresh idempotency key.
-- Key: bench-<run>-<thread>-<counter>; the token comes from the TOKEN environment variable.
local counter = 0
local thread_id = 0
local run = os.getenv("RUN") or "0"
local threads = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  thread_id = id
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
end

function request()
  counter = counter + 1
  local amount = 100 + counter % 997
  local body = string.format(
    '{"idempotency_key":"bench-%s-%d-%d","kind":"royalty","postings":[' ..
    '{"account":"external/dsp-%d/EUR","side":"debit","amount":%d},' ..
    '{"account":"artist/a%d/EUR","side":"credit","amount":%d}]}',
    run, thread_id, counter, counter % 4, amount, counter % 1000, amount)
  return wrk.format(nil, "/v1/transfers", nil, body)
end
