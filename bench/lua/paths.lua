-- wrk script for bench/run: sends GET requests rotating through the paths
-- listed in a file (one per line), and prints one machine-readable summary
-- line at the end.
--
--   wrk -t1 -c16 -d10s -s bench/lua/paths.lua http://127.0.0.1:8090 -- PATHS_FILE
--
-- Requests are formatted once in init(), so the client spends its time on
-- the network, not in Lua. With several threads each starts at a different
-- offset.

local requests = {}
local n = 0
local i = 0

function init(args)
    local file = args[1]
    if file == nil then
        error("usage: wrk ... -s paths.lua URL -- PATHS_FILE")
    end

    local f = assert(io.open(file, "r"))
    for line in f:lines() do
        if line ~= "" then
            n = n + 1
            requests[n] = wrk.format("GET", line)
        end
    end
    f:close()

    if n == 0 then
        error("no paths in " .. file)
    end

    -- spread threads over the list (bench_thread is set by setup())
    i = ((bench_thread or 0) * 7919) % n
end

local thread_count = 0

function setup(thread)
    thread:set("bench_thread", thread_count)
    thread_count = thread_count + 1
end

function request()
    i = i + 1
    if i > n then
        i = 1
    end
    return requests[i]
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d "
        .. "max_us=%d mean_us=%.1f err_connect=%d err_read=%d err_write=%d "
        .. "err_status=%d err_timeout=%d\n",
        summary.requests, summary.duration, summary.bytes,
        latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.max, latency.mean,
        e.connect, e.read, e.write, e.status, e.timeout))
end
