function request()
  return wrk.format("GET", "/v1/comments?post_id=" .. random_post_id())
end
