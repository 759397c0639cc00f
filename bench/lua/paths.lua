-- wrk script for bench/run: sends requests rotating through the lines of a
-- file, and prints one machine-readable summary line at the end.
--
--   wrk -t1 -c16 -d10s -s bench/lua/paths.lua http://127.0.0.1:8090 -- PATHS_FILE
--
-- A line is a path (a GET), or, with fields separated by tabs,
--
--   [METHOD ]PATH<TAB>Name: value<TAB>...[<TAB><TAB>BODY]
--
-- a method (GET unless given), request headers, and after an empty field
-- (as after the blank line of HTTP) the body, e.g.
--   /api/me<TAB>Authorization: Bearer eyJ...
--   POST /api/auth/login<TAB>Content-Type: application/json<TAB><TAB>{"email":...}
-- wrk adds Host, and Content-Length when there is a body.
--
-- Requests are formatted once in init(), so the client spends its time on
-- the network, not in Lua. With several threads each starts at a different
-- offset.

local requests = {}
local n = 0
local i = 0

local function split_tabs(line)
    local fields = {}
    local from = 1
    while true do
        local at = string.find(line, "\t", from, true)
        if at == nil then
            fields[#fields + 1] = string.sub(line, from)
            return fields
        end
        fields[#fields + 1] = string.sub(line, from, at - 1)
        from = at + 1
    end
end

local function format(line)
    if string.sub(line, 1, 1) == "/" and string.find(line, "\t", 1, true) == nil
    then
        return wrk.format("GET", line)
    end

    local fields = split_tabs(line)
    local method, path = string.match(fields[1], "^(%u+) (/.*)$")
    if method == nil then
        method, path = "GET", fields[1]
    end

    local headers = {}
    local body = nil
    for k = 2, #fields do
        if fields[k] == "" then
            body = table.concat(fields, "\t", k + 1)
            break
        end
        local name, value = string.match(fields[k], "^([^:%s]+):%s*(.*)$")
        if name == nil then
            error("not a header \"Name: value\": " .. fields[k])
        end
        headers[name] = value
    end

    return wrk.format(method, path, headers, body)
end

function init(args)
    local file = args[1]
    if file == nil then
        error("usage: wrk ... -s paths.lua URL -- PATHS_FILE")
    end

    local f = assert(io.open(file, "r"))
    for line in f:lines() do
        if line ~= "" then
            n = n + 1
            requests[n] = format(line)
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
