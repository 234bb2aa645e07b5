-- Short newsgroup-style messages for unique.lua (which loads this with dofile).
-- The same recipe as texts.py, which the harness uses for the in-process compute floor.
--
-- A message is an opener, a clause of 9-13 words, a second clause of 7-11 words and a
-- reference token "(ref <nonce>-<thread>-<count>)": about 25 words. The words are drawn at
-- random for realism; uniqueness does not rest on chance but on the reference token, whose
-- nonce is fresh for every wrk run (the harness passes it as a script argument), so no text
-- repeats within a run, across scenarios or across server restarts.
local M = {}

local function entries(path)
  local found = {}
  for line in io.lines(path) do
    if line ~= "" and line:sub(1, 1) ~= "#" then
      found[#found + 1] = line
    end
  end
  assert(#found > 0, "no entries in " .. path)
  return found
end

local function capitalized(word)
  return word:sub(1, 1):upper() .. word:sub(2)
end

-- Returns a function giving the next message of this thread.
function M.generator(dir, nonce, thread_id)
  local words = entries(dir .. "/vocabulary.txt")
  local openers = entries(dir .. "/openers.txt")
  -- different sequences per thread and per run; LuaJIT seeds from a double, so 32 bits of
  -- the nonce are plenty
  math.randomseed(tonumber(nonce:sub(1, 8), 16) + thread_id * 7919)
  local count = 0
  local parts = {}

  local function clause(first, low, high)
    local n = #parts
    parts[n + 1] = first
    for i = 1, math.random(low, high) do
      parts[n + 1 + i] = words[math.random(#words)]
    end
  end

  return function()
    count = count + 1
    for i = #parts, 1, -1 do
      parts[i] = nil
    end
    clause(capitalized(openers[math.random(#openers)]), 9, 13)
    parts[#parts] = parts[#parts] .. "."
    clause(capitalized(words[math.random(#words)]), 6, 10)
    parts[#parts] = parts[#parts] .. "?"
    parts[#parts + 1] = string.format("(ref %s-%d-%d)", nonce, thread_id, count)
    return table.concat(parts, " ")
  end
end

return M
