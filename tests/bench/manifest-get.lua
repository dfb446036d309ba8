-- wrk 4.1 script: GET the URL given to wrk (a manifest) with Basic credentials
-- and the manifest media types in Accept, as a pulling client sends them.
-- BENCH_BASIC is base64("user:password"), and when it is empty or unset no
-- Authorization header is sent. BENCH_ACCEPT is the Accept value.
-- done() prints one "bench-result" line that run.sh parses; latencies are in
-- microseconds, and status counts responses that were not 2xx or 3xx.

wrk.method = "GET"
local basic = os.getenv("BENCH_BASIC")
if basic ~= nil and basic ~= "" then
   wrk.headers["Authorization"] = "Basic " .. basic
end
wrk.headers["Accept"] = os.getenv("BENCH_ACCEPT")

function done(summary, latency, requests)
   local errors = summary.errors
   io.write(string.format(
      "bench-result requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d " ..
      "connect=%d read=%d write=%d status=%d timeout=%d\n",
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(99), latency.max,
      errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
