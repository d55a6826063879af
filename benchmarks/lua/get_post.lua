function request()
  return wrk.format("GET", "/v1/posts/" .. random_post_id())
end
