function request()
  return wrk.format("POST", "/v1/posts", nil, fresh_content("bench post"))
end
