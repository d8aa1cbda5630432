-- A mixed concurrent write load for wrk (bench/run.sh): SIM imports, assigns, MVNO creates, updates
-- and deletes, and emnify SIM PATCHes, interleaved on every connection. Each wrk thread writes its own
-- ICCs and numbers; later steps use what earlier steps made, LAG steps back, so that they have landed.
-- Refusals (4xx: a SIM already taken, an account already gone) are counted apart; the errors that
-- must be zero are 5xx answers and socket errors.
-- Environment: MIX_CUSTOMER, MIX_OTHER (customer oids), MIX_PLAN (rate plan oid), MIX_LO, MIX_HI
-- (the range of SIM ids to PATCH).
local customer = os.getenv("MIX_CUSTOMER")
local other = os.getenv("MIX_OTHER")
local plan = os.getenv("MIX_PLAN")
local lo, hi = tonumber(os.getenv("MIX_LO")), tonumber(os.getenv("MIX_HI"))
local LAG = 128
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

function init(args)
  step = 0
  served, refused, failed = 0, 0, 0
  math.randomseed(tid * 7919)
  codes = {}
  -- A script's own headers replace wrk's: carry the Authorization given with -H over.
  json = { ["Content-Type"] = "application/json" }
  for k, v in pairs(wrk.headers) do json[k] = v end
end

local function icc(n) return string.format("8996%02d%013d", tid, n) end
local function number(n) return string.format("+4599%02d%08d", tid, n) end

function request()
  step = step + 1
  local kind = step % 6
  local cycle = math.floor(step / 6)
  if kind == 0 then
    -- Five new SIMs into the customer's stock, free for auto-assignment.
    local lines = {}
    for k = 0, 4 do
      lines[#lines + 1] = icc(cycle * 5 + k) .. ";12345678;87654321;1234;4321;NANO;TDC;;;true"
    end
    local body = '{"data":"' .. table.concat(lines, "\\n") .. '","inStorageAt":"' .. customer .. '"}'
    return wrk.format("POST", "/sim", json, body)
  elseif kind == 1 then
    -- An account on any auto-assign SIM of the customer.
    local body = '{"customer":"' .. customer .. '","number":"' .. number(cycle) .. '","ratePlan":"' .. plan .. '","autoAssign":true}'
    return wrk.format("POST", "/mvno", json, body)
  elseif kind == 2 then
    local n = math.max(cycle - LAG / 6, 0)
    local flag = (cycle % 2 == 0) and "true" or "false"
    return wrk.format("POST", "/mvno/" .. number(n), json, '{"feature":{"data":' .. flag .. '}}')
  elseif kind == 3 then
    -- A SIM imported a while ago moves to the other customer (unless an account took it).
    local n = math.max(cycle - LAG / 6, 0) * 5 + 4
    return wrk.format("POST", "/sim/" .. icc(n) .. "/assign?customer=" .. other, json)
  elseif kind == 4 then
    local id = math.random(lo, hi)
    local status = math.random(1, 2)
    return wrk.format("PATCH", "/api/v1/sim/" .. id, json, '{"status":{"id":' .. status .. '}}')
  else
    return wrk.format("DELETE", "/mvno/" .. number(math.max(cycle - 2 * LAG / 6, 0)))
  end
end

function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
  if status >= 500 then
    failed = failed + 1
  elseif status >= 400 then
    refused = refused + 1
  else
    served = served + 1
  end
end

function done(summary, latency, requests)
  local s, r, f = 0, 0, 0
  local all = {}
  for _, t in ipairs(threads) do
    s = s + t:get("served")
    r = r + t:get("refused")
    f = f + t:get("failed")
    for code, n in pairs(t:get("codes")) do all[code] = (all[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(all) do parts[#parts + 1] = code .. ":" .. n end
  table.sort(parts)
  io.write("statuses " .. table.concat(parts, " ") .. "\n")
  local e = summary.errors
  local socket = e.connect + e.read + e.write + e.timeout
  io.write(string.format("MIX %d %d %d %d %.0f\n", s, r, f, socket, summary.requests / (summary.duration / 1e6)))
end
