-- wrk script: POST /api/v1/auth/login for a demo person (bearer session), keep-alive.
wrk.method = "POST"
wrk.body = '{"login":"13912340001","password":"Zhangsan@2026","bearer":true}'
wrk.headers["Content-Type"] = "application/json"

local bad = 0
response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("non-200: %d\n", bad))
end
