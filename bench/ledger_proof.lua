-- wrk script for bench/ledger.sh: inclusion proofs for random indexes of a log of SIZE entries.
function init(args)
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
  math.randomseed(os.time() + (id or 0))
end

local size = tonumber(os.getenv("SIZE"))
local kind = os.getenv("KIND") or "inclusion"

function request()
  if kind == "inclusion" then
    return wrk.format("GET", "/v1/proofs/inclusion?index=" .. math.random(0, size - 1))
  end
  return wrk.format("GET", "/v1/proofs/consistency?first=" .. math.random(1, size - 1))
end

function done(summary, latency, requests)
  io.write(string.format("  %s via HTTP: %d requests, %d errors, latency p50 %.0f µs  p99 %.0f µs\n", kind, summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
