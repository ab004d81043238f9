"""gRPC servicers. They validate requests, call the domain modules on the database threads and map
CollectorError subclasses to gRPC status codes; nothing else escapes as UNKNOWN."""
