-- wrk script for the intake benchmark (bench/run.sh drives it; see docs/performance.md).
--
-- Every request is a realistic ~2 KiB Supabase INSERT on `products` (the shape of
-- shared/samples/supabase_insert_product.json: record with variants and categories) with a valid API key.
-- Environment:
--   BENCH_API_KEY    the x-api-key to send
--   BENCH_RUN_ID     a token unique to this wrk run, so no two runs (or threads, or requests) send the same body
--   BENCH_DUP_RATIO  0..1: share of requests that resend one of BENCH_DUP_POOL fixed bodies (duplicate-heavy mix)
--   BENCH_DUP_POOL   how many distinct bodies the duplicates are drawn from (default 64)
--   BENCH_RATE       total requests/s across all threads for a fixed-rate run; 0 or unset = as fast as possible
--   BENCH_THREADS    the -t given to wrk (the rate is split evenly between threads)
-- At the end it prints one line "BENCH_JSON {...}" with the counts per status and the latency percentiles (µs).

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local api_key = os.getenv("BENCH_API_KEY") or "missing"
local run_id = os.getenv("BENCH_RUN_ID") or tostring(os.time())
local dup_ratio = tonumber(os.getenv("BENCH_DUP_RATIO") or "0") or 0
local dup_pool = tonumber(os.getenv("BENCH_DUP_POOL") or "64") or 64
local rate = tonumber(os.getenv("BENCH_RATE") or "0") or 0
local thread_count = tonumber(os.getenv("BENCH_THREADS") or "1") or 1

-- main state: hand each thread its number and collect its counters at the end -------------------------------
local threads = {}
local next_thread = 0

function setup(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

-- thread state -----------------------------------------------------------------------------------------------
-- `tid` is set by setup() as a global of the thread's state; the counters are globals too, read back by done().
tid = 0
local counter = 0
c202, c200, cother, late, max_lag_ms, distinct_sent, distinct_bytes = 0, 0, 0, 0, 0, 0, 0

local forms = { "capsule", "tablet", "powder", "liquid", "softgel" }
local uses = { '"sleep","muscle recovery"', '"energy"', '"immunity","recovery"', '"focus","stress"', '"digestion"' }
local names = { "Magnesium Glycinate", "Vitamin D3 + K2", "Omega-3 Fish Oil", "Zinc Picolinate", "Ashwagandha KSM-66" }

local function uuid(a, b, c)
  return string.format("%08x-%04x-4%03x-a%03x-%012x", a % 0x100000000, b % 0x10000, c % 0x1000, (a + c) % 0x1000, c)
end

local function variant(i, seed, product_id)
  return string.format(
    '{"id":"%s-v%d","product_id":"%s","price":%d.%02d,"image_url":"https://cdn.example/img/%d-%d.png",' ..
    '"stock_quantity":%d,"is_default":%s,"stockStatus":"in_stock","lab_test_codes_id":null,' ..
    '"service_product_id":"sp-%d","cpr_price":%d.5,"sku":"SKU-%08d-%d","archived_at":null}',
    product_id, i, product_id, 10 + (seed + i) % 90, (seed * 7 + i) % 100, seed % 997, i,
    (seed + i * 13) % 500, i == 1 and "true" or "false", (seed + i) % 50, 8 + (seed + i) % 80, seed % 100000000, i)
end

local function category(i, seed)
  return string.format(
    '{"id":%d,"name":"Category %d","user_id":"u-%d","created_at":"2024-01-0%dT00:00:00Z",' ..
    '"last_modified":"2025-01-01T00:00:00Z","image":"category-%d.png"}',
    (seed + i) % 40 + 1, (seed + i) % 40 + 1, seed % 1000, i, (seed + i) % 40 + 1)
end

-- One product INSERT webhook; `seed` picks the content, `product_id` makes it a distinct event.
local function product_body(seed, product_id, store_n, stamp)
  local variants = {}
  for i = 1, 4 do variants[i] = variant(i, seed, product_id) end
  local categories = {}
  for i = 1, 3 do categories[i] = category(i, seed) end
  return string.format(
    '{"type":"INSERT","table":"products","schema":"public","record":{"id":"%s","store_id":"%s",' ..
    '"name":"%s %d","form":"%s","dose":"%d mg","uses":[%s],' ..
    '"description":"Third-party tested, %d servings per container. Take one serving daily with food or as advised by your practitioner.",' ..
    '"created_at":"2025-12-09T16:20:00.000Z","updated_at":"%s","archived_at":null,' ..
    '"product_variants":[%s],"categories":[%s]},"old_record":null}',
    product_id, uuid(0x223e4567, 0xe89b, store_n), names[seed % 5 + 1], seed % 1000, forms[seed % 5 + 1],
    50 + seed % 950, uses[seed % 5 + 1], 30 + seed % 90, stamp,
    table.concat(variants, ","), table.concat(categories, ","))
end

local headers = { ["Content-Type"] = "application/json", ["x-api-key"] = api_key }
local pool = {}
local run_hash = 0
local interval_ms, next_slot = 0, 0

function init(args)
  math.randomseed(tid + 1)
  for i = 1, #run_id do run_hash = (run_hash * 31 + run_id:byte(i)) % 0x100000000 end
  if dup_ratio > 0 then
    for i = 1, dup_pool do
      -- the same bodies in every thread, so duplicates also race across connections
      pool[i] = wrk.format("POST", nil, headers, product_body(i, uuid(0xd0d0d0d0, 0, i), i % 16, "2025-12-09T16:20:00.000Z"))
    end
  end
  if rate > 0 then
    interval_ms = 1000 * thread_count / rate
  end
end

function request()
  if dup_ratio > 0 and math.random() < dup_ratio then
    return pool[math.random(dup_pool)]
  end
  counter = counter + 1
  local seed = tid * 1000003 + counter
  local stamp = string.format("2025-12-09T16:%02d:%02d.%03dZ", counter % 60, (counter / 60) % 60, counter % 1000)
  local body = product_body(seed, uuid(run_hash, tid, counter), counter % 16, stamp)
  distinct_sent = distinct_sent + 1
  distinct_bytes = distinct_bytes + #body
  return wrk.format("POST", nil, headers, body)
end

-- Fixed rate: each thread keeps a schedule of send slots `interval_ms` apart; a connection that is free takes the
-- next slot and waits for it. A send more than 2 ms after its slot is counted as late (the server or the
-- machine could not keep up) and reported, because wrk measures latency from the actual send.
if rate > 0 then
  function delay()
    local now = now_ms()
    if next_slot == 0 then next_slot = now end
    local slot = next_slot
    next_slot = next_slot + interval_ms
    local wait = slot - now
    if wait < -2 then
      late = late + 1
      if -wait > max_lag_ms then max_lag_ms = -wait end
    end
    return wait > 0 and math.floor(wait) or 0
  end
end

function response(status, headers, body)
  if status == 202 then
    c202 = c202 + 1
  elseif status == 200 then
    c200 = c200 + 1
  else
    cother = cother + 1
  end
end

function done(summary, latency, requests)
  local t202, t200, tother, tlate, tlag, tsent, tbytes = 0, 0, 0, 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    t202 = t202 + thread:get("c202")
    t200 = t200 + thread:get("c200")
    tother = tother + thread:get("cother")
    tlate = tlate + thread:get("late")
    tlag = math.max(tlag, thread:get("max_lag_ms"))
    tsent = tsent + thread:get("distinct_sent")
    tbytes = tbytes + thread:get("distinct_bytes")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us":%d,"requests":%d,"bytes":%d,"status_202":%d,"status_200":%d,"status_other":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p99_9":%d},' ..
    '"target_rate":%s,"late_sends":%d,"max_send_lag_ms":%.1f,"mean_distinct_body_bytes":%d}\n',
    summary.duration, summary.requests, summary.bytes, t202, t200, tother,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), rate, tlate, tlag, tsent > 0 and tbytes / tsent or 0))
end
