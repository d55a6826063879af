function request()
  return wrk.format("PATCH", "/v1/posts/" .. random_post_id(), nil, fresh_content("bench edit"))
end
