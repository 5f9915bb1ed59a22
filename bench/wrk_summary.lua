-- wrk script of bench/gateway.py. With MARQUEE_KEYS set (comma-separated API keys), each request carries the next
-- key in X-API-KEY, so concurrent requests act as different clients. done() prints one JSON line: counts, errors
-- and latency percentiles (microseconds).
local keys = {}
for key in string.gmatch(os.getenv("MARQUEE_KEYS") or "", "[^,]+") do
  keys[#keys + 1] = key
end

if #keys > 0 then
  local counter = math.random(#keys)
  request = function()
    counter = counter % #keys + 1
    wrk.headers["X-API-KEY"] = keys[counter]
    return wrk.format()
  end
end

done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
