"""``nianbao review``: a local web app to check flagged fields against their source and correct them.

Server-rendered (Starlette + Jinja2), no build step.  Every page reads the results store
afresh, and every change goes through ``ResultsStore``: corrections keep the machine's
value, re-run the report's checks and say what they cleared.  Keyboard first: the
page's shortcuts are in ``static/review.js`` and listed on every page.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..repair import RepairReport, suggest_report
from ..store import CorrectionError, FieldView, ResultsStore, StoreError
from .grid import cell_text, grid, table_of
from .security import CSRF_FIELD, Guard, csrf_ok, csrf_token
from .source import view_for

# Queue entries listed on the start page; the rest are reached by "next".
QUEUE_PAGE = 200
# Repair suggestions offered per table (keys 1…5).
SUGGESTIONS = 5
STATIC = Path(__file__).with_name("static")
# Where a run extracts zip members, beside its store (``nianbao.inputs``).
INPUTS_DIR = ".inputs"


@dataclass(frozen=True)
class Settings:
    store: Path
    reviewer: str
    base: Path | None = None  # folder the stored file paths are relative to (default: the store's cwd)
    token: str | None = None


def create_app(settings: Settings) -> Starlette:
    env = Environment(loader=PackageLoader("nianbao.review", "templates"), autoescape=select_autoescape(default=True))

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(name).render(csrf_field=CSRF_FIELD, csrf=csrf_token(request), reviewer=settings.reviewer, msg=request.query_params.get("msg", ""), **context)
        return HTMLResponse(html, status_code=status)

    def store() -> ResultsStore:
        return ResultsStore(settings.store)

    def queue(request: Request) -> Response:
        with closing(store()) as s:
            items = s.queue(limit=QUEUE_PAGE)
            reports = s.reports()
        return page(request, "queue.html", items=items, reports=reports, field_url=field_url)

    def field_page(request: Request) -> Response:
        rid, key = int(request.path_params["rid"]), request.path_params["key"]
        return _render_field(request, rid, key)

    def _render_field(request: Request, rid: int, key: str, *, error: str = "", status: int = 200) -> Response:
        with closing(store()) as s:
            try:
                report = s.report(rid)
                field = report.field(key)
            except (StoreError, KeyError):
                return page(request, "missing.html", status=404, what=f"report {rid}, field {key}")
            table = table_of(key)
            repairs = _repairs(s, rid, table)
            history = s.corrections(rid, key)
            nxt = _next(s, rid, key)
        view = view_for(field, report, settings.base, inputs=settings.store.parent / INPUTS_DIR)
        relevant = [c for c in report.checks if key in c.keys]
        failing = [c for c in report.checks if c.outcome == "failed"]
        return page(
            request,
            "field.html",
            status=status,
            report=report,
            field=field,
            view=view,
            source_png=f"{field_url(rid, key)}/source.png" if view.kind == "image" else "",
            grid=grid(report, table) if table else None,
            relevant=relevant,
            failing=failing,
            repairs=repairs,
            history=history,
            next_url=field_url(*nxt) if nxt else "/",
            error=error,
            field_url=field_url,
        )

    def source_png(request: Request) -> Response:
        rid, key = int(request.path_params["rid"]), request.path_params["key"]
        with closing(store()) as s:
            try:
                report = s.report(rid)
                field = report.field(key)
            except (StoreError, KeyError):
                return Response(status_code=404)
        view = view_for(field, report, settings.base, inputs=settings.store.parent / INPUTS_DIR)
        if view.kind != "image" or view.png is None:
            return Response(status_code=404)
        return Response(view.png, media_type="image/png", headers={"Cache-Control": "private, max-age=600"})

    async def act(request: Request) -> Response:
        rid, key = int(request.path_params["rid"]), request.path_params["key"]
        form = await request.form()
        if not csrf_ok(request, form.get(CSRF_FIELD)):
            return _forged()
        action = str(form.get("action", ""))
        why = str(form.get("why", ""))
        with closing(store()) as s:
            try:
                if action == "skip":
                    nxt = _next(s, rid, key)
                    return _go(nxt, "skipped")
                if action == "accept":
                    result = s.accept(rid, key, reviewer=settings.reviewer, why=why, via="review")
                elif action in ("blank", "dash"):
                    result = s.correct(rid, key, "", state=action, reviewer=settings.reviewer, why=why, via="review")
                elif action == "set":
                    result = s.correct(rid, key, str(form.get("value", "")), reviewer=settings.reviewer, why=why, via="review")
                else:
                    return Response(f"unknown action {action!r}", status_code=400)
            except CorrectionError as exc:
                return _render_field(request, rid, key, error=str(exc), status=400)
            nxt = _next(s, rid, key)
        return _go(nxt, _summary(f"{key} saved", result.cleared, result.new_failures))

    async def save_grid(request: Request) -> Response:
        rid = int(request.path_params["rid"])
        form = await request.form()
        if not csrf_ok(request, form.get(CSRF_FIELD)):
            return _forged()
        back = str(form.get("back", ""))
        with closing(store()) as s:
            report = s.report(rid)
            current = {f.key: f for f in report.fields}
            changed = [(k[5:], str(v).strip()) for k, v in form.multi_items() if k.startswith("cell:") and k[5:] in current and str(v).strip() != cell_text(current[k[5:]])]
            cleared: list[str] = []
            new: list[str] = []
            errors: list[str] = []
            for key, text in changed:
                try:
                    state = "dash" if text in ("/", "—", "-") else ("blank" if text == "" else None)
                    result = s.correct(rid, key, "" if state else text, state=state, reviewer=settings.reviewer, why="edited in the table", via="review-grid")
                except CorrectionError as exc:
                    errors.append(f"{key}: {exc}")
                    continue
                cleared += [c for c in result.cleared if c not in cleared]
                new = list(result.new_failures)
        if errors:
            return _render_field(request, rid, back or changed[0][0], error="; ".join(errors), status=400)
        return RedirectResponse(_with_msg(field_url(rid, back) if back else "/", _summary(f"{len(changed)} cells saved", cleared, new)), status_code=303)

    async def apply_repair(request: Request) -> Response:
        rid, table, n = int(request.path_params["rid"]), request.path_params["table"], int(request.path_params["n"])
        form = await request.form()
        if not csrf_ok(request, form.get(CSRF_FIELD)):
            return _forged()
        back = str(form.get("back", ""))
        with closing(store()) as s:
            repairs = _repairs(s, rid, table)
            if repairs is None or not 1 <= n <= len(repairs.suggestions):
                return Response("that suggestion is gone: the table changed; reload the page", status_code=409)
            suggestion = repairs.suggestions[n - 1]
            cleared: list[str] = []
            for fix in suggestion.fixes:
                for edit in fix.edits:
                    state = None if edit.new_value is not None else edit.new_state.value
                    result = s.correct(rid, edit.key, "" if edit.new_value is None else edit.new_value, state=state, reviewer=settings.reviewer, why=f"repair suggestion {n}: {fix.reason}", via="review-repair")
                    cleared += [c for c in result.cleared if c not in cleared]
            nxt = _next(s, rid, back) if back else None
        return _go(nxt, _summary(f"suggestion {n} applied", cleared, []))

    async def set_state(request: Request) -> Response:
        rid = int(request.path_params["rid"])
        form = await request.form()
        if not csrf_ok(request, form.get(CSRF_FIELD)):
            return _forged()
        with closing(store()) as s:
            try:
                s.set_review_state(rid, str(form.get("state", "")), reviewer=settings.reviewer, why=str(form.get("why", "")))
            except StoreError as exc:
                return Response(str(exc), status_code=400)
        back = str(form.get("back", ""))
        return RedirectResponse(_with_msg(field_url(rid, back) if back else "/", f"report marked {form.get('state')}"), status_code=303)

    routes = [
        Route("/", queue),
        Route("/r/{rid:int}/f/{key}/source.png", source_png),
        Route("/r/{rid:int}/f/{key}", field_page, methods=["GET"]),
        Route("/r/{rid:int}/f/{key}", act, methods=["POST"]),
        Route("/r/{rid:int}/grid", save_grid, methods=["POST"]),
        Route("/r/{rid:int}/repair/{table}/{n:int}", apply_repair, methods=["POST"]),
        Route("/r/{rid:int}/state", set_state, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(Guard, token=settings.token)
    return app


def _forged() -> Response:
    """The answer to a form without this browser's CSRF token: stale, or posted from another site."""
    return Response("the form is stale or came from another site: reload the page", status_code=403)


def field_url(rid: int, key: str) -> str:
    return f"/r/{rid}/f/{quote(key)}"


def _with_msg(url: str, msg: str) -> str:
    return f"{url}?{urlencode({'msg': msg})}" if msg else url


def _go(nxt: tuple[int, str] | None, msg: str) -> Response:
    return RedirectResponse(_with_msg(field_url(*nxt) if nxt else "/", msg), status_code=303)


def _summary(done: str, cleared: list[str], new: list[str]) -> str:
    parts = [done]
    if cleared:
        parts.append("cleared: " + "; ".join(cleared))
    if new:
        parts.append("now failing: " + "; ".join(new))
    return " — ".join(parts)


def _next(s: ResultsStore, rid: int, key: str) -> tuple[int, str] | None:
    """The queue's next entry after this field (the riskiest other one when this one left the queue)."""
    items: list[FieldView] = s.queue(limit=QUEUE_PAGE)
    keys = [(f.report_id, f.key) for f in items]
    if (rid, key) in keys:
        at = keys.index((rid, key))
        rest = keys[at + 1 :] + keys[:at]
        return rest[0] if rest else None
    return keys[0] if keys else None


def _repairs(s: ResultsStore, rid: int, table: str | None) -> RepairReport | None:
    if table not in ("t3", "t4"):
        return None
    try:
        report = s.current_report(rid)
    except StoreError:
        return None
    return suggest_report(report, limit=SUGGESTIONS).get(table)


