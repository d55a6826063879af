wrk.method = "GET"
wrk.path = "/v1/posts?limit=20"
