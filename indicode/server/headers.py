"""What a request's headers tell both routers (the API's and the reconciliation one's): the body's
media type and the origin the request addressed."""
from __future__ import annotations

from fastapi import Request


def media_type(request: Request) -> str:
    """The request body's media type, without parameters (`application/json; charset=utf-8`)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def own_origin(request: Request) -> str:
    """This server's origin as the request addressed it (the Guard has checked the Host)."""
    return f"{request.url.scheme}://{request.headers.get('host', '')}"
