-- Repeated text: every request POSTs the same short, realistic message, so after the first
-- request a caching service answers from its cache. The request is static, which lets wrk
-- build it once (no Lua runs per request, keeping the load generator as cheap as possible).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"text":"My Mac has started to freeze when I add more RAM, is the memory card bad '
  .. 'or is it the logic board?"}'
