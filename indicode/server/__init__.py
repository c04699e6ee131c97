"""`indicode serve`: the HTTP API, the drafting page and the Reconciliation Service API.

FastAPI (validation, OpenAPI, a thread pool for the endpoints) on uvicorn (its h11 protocol with a
deadline for request heads and a connection cap), behind a Guard that checks the Host, the limits
and the body deadline. Modules: `service` (the Linker in use, kept in step with the catalogue file),
`app` (page and /api), `reconcile` (/reconcile), `headers` (what both read off a request), `guard`
(ASGI middleware), `protocol` (h11), `run` (binding and start-up). Inputs are read by
`indicode.inputs`, as the CLI and the Python API read them.
"""
from .app import create_app
from .run import is_loopback, make_server, serve, served_hosts
from .service import Service

__all__ = ["Service", "create_app", "is_loopback", "make_server", "serve", "served_hosts"]
