-- The soak: mostly reads, some writes, like a blog.
function request()
  local r = math.random(1, 100)
  if r <= 60 then
    return wrk.format("GET", "/v1/posts/" .. random_post_id())
  elseif r <= 75 then
    return wrk.format("GET", "/v1/posts?limit=20")
  elseif r <= 90 then
    return wrk.format("GET", "/v1/comments?post_id=" .. random_post_id())
  elseif r <= 95 then
    return wrk.format("POST", "/v1/posts", nil, fresh_content("soak post"))
  else
    return wrk.format("PATCH", "/v1/posts/" .. random_post_id(), nil, fresh_content("soak edit"))
  end
end
