-- Mixed traffic for the soak test: repeated texts, unique texts and small batches.
local topics = {
  "rocket orbit launch nasa astronaut moon mars shuttle",
  "recipe oven flour butter garlic onion bake simmer",
  "football goal match referee league striker tennis coach",
}
local prefix = os.getenv("SOAK_PREFIX") or "0"
local counter = 0

request = function()
  counter = counter + 1
  local topic = topics[counter % #topics + 1]
  local kind = counter % 10
  if kind < 4 then
    return wrk.format("POST", "/prediction", {["Content-Type"] = "application/json"},
      '{"text": "' .. topic .. '"}')
  elseif kind < 9 then
    return wrk.format("POST", "/prediction", {["Content-Type"] = "application/json"},
      '{"text": "' .. topic .. " " .. prefix .. "-" .. counter .. '"}')
  end
  local texts = {}
  for i = 1, 20 do
    texts[i] = '"' .. topics[i % #topics + 1] .. " batch " .. prefix .. "-" .. counter .. "-" .. i .. '"'
  end
  return wrk.format("POST", "/predictions", {["Content-Type"] = "application/json"},
    '{"texts": [' .. table.concat(texts, ",") .. ']}')
end
