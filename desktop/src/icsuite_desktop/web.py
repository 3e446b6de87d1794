"""Rendering: templates, fragments for htmx, and problems shown as their title and detail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from icsuite_chassis.logging import get_logger
from icsuite_chassis.problems import Problem
from starlette.exceptions import HTTPException as StarletteHTTPException
from fastapi.exceptions import RequestValidationError

from .gateways import GatewayProblem
from .session import SignInRequired

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
_log = get_logger(__name__)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(request: Request, template: str, status: int = 200, headers: dict[str, str] | None = None,
           **context: Any) -> HTMLResponse:
    context.setdefault("user", getattr(request.state, "user", None))
    context.setdefault("settings", request.app.state.settings)
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status, headers=headers)


def show_problem(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    """A refusal as the problem's title and detail: in the page's problem area for htmx, else a page."""
    if is_htmx(request):
        return render(request, "partials/problem.html", status=status, code=status, title=title, detail=detail,
                      headers={"HX-Retarget": "#problem", "HX-Reswap": "innerHTML"})
    return render(request, "problem_page.html", status=status, code=status, title=title, detail=detail)


def install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        if is_htmx(request):
            return Response(status_code=401, headers={"HX-Redirect": "/signin"})
        return RedirectResponse("/signin", status_code=303)

    @app.exception_handler(GatewayProblem)
    async def _gateway(request: Request, exc: GatewayProblem) -> Response:
        return show_problem(request, exc.status, exc.title, exc.detail)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        return show_problem(request, exc.status, exc.title, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'form'}: {e.get('msg')}"
                           for e in list(exc.errors())[:5])
        return show_problem(request, 422, "Invalid input", detail or "the form is not valid")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
        return show_problem(request, exc.status_code, title, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        _log.exception("unhandled error", path=request.url.path)
        return show_problem(request, 500, "Internal error", "an unexpected error occurred; it has been logged")
