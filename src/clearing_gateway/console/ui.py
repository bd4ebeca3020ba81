"""Page sections the one generic template renders: tables, key-value lists, forms,
timelines, cards. Pages build these from rows; templates never query anything."""

from __future__ import annotations

import datetime as dt
from typing import Any

from clearing_gateway.kit.money import format_amount

Section = dict[str, Any]


def cell(text: object, href: str | None = None, cls: str | None = None) -> dict[str, Any]:
    return {"text": "" if text is None else str(text), "href": href, "cls": cls}


def field(
    name: str,
    label: str,
    *,
    kind: str = "text",
    value: object = "",
    options: list[str] | None = None,
    required: bool = False,
) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "kind": kind,
        "value": "" if value is None else str(value),
        "options": options or [],
        "required": required,
    }


def action(label: str, url: str, *fields: dict[str, Any], danger: bool = False) -> dict[str, Any]:
    return {"label": label, "url": url, "fields": list(fields), "danger": danger}


def table(
    title: str,
    columns: list[str],
    rows: list[dict[str, Any]],
    *,
    empty: str = "Nothing here.",
    next_url: str | None = None,
    prev_url: str | None = None,
    test_id: str | None = None,
) -> Section:
    return {
        "type": "table",
        "title": title,
        "columns": columns,
        "rows": rows,
        "empty": empty,
        "next": next_url,
        "prev": prev_url,
        "id": test_id or slug(title),
    }


def row(*cells: dict[str, Any] | object, actions: list[dict[str, Any]] | None = None) -> Any:
    return {
        "cells": [c if isinstance(c, dict) else cell(c) for c in cells],
        "actions": actions or [],
    }


def kv(title: str, items: list[tuple[str, object] | tuple[str, object, str | None]]) -> Section:
    rendered = []
    for item in items:
        label, value = item[0], item[1]
        href = item[2] if len(item) > 2 else None
        rendered.append(
            {"label": label, "value": "" if value is None else str(value), "href": href}
        )
    return {"type": "kv", "title": title, "entries": rendered, "id": slug(title)}


def form(
    title: str, url: str, fields: list[dict[str, Any]], submit: str, *, method: str = "post"
) -> Section:
    return {
        "type": "form",
        "title": title,
        "url": url,
        "fields": fields,
        "submit": submit,
        "method": method,
        "id": slug(title),
    }


def cards(items: list[dict[str, Any]]) -> Section:
    return {"type": "cards", "entries": items, "id": "cards"}


def card(label: str, value: object, href: str | None = None, sub: str | None = None) -> Any:
    return {"label": label, "value": str(value), "href": href, "sub": sub}


def pre(title: str, text: str) -> Section:
    return {"type": "pre", "title": title, "text": text, "id": slug(title)}


def secret(title: str, items: list[tuple[str, str]]) -> Section:
    return {
        "type": "secret",
        "title": title,
        "entries": [{"label": k, "value": v} for k, v in items],
        "id": "secret",
    }


def raw_svg(title: str, svg: str) -> Section:
    return {"type": "svg", "title": title, "svg": svg, "id": slug(title)}


def timeline(title: str, items: list[dict[str, Any]]) -> Section:
    return {"type": "timeline", "title": title, "entries": items, "id": "timeline"}


def slug(title: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")


def when(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def money(minor: int | None, currency: str) -> str:
    if minor is None:
        return "—"
    return f"{format_amount(minor, currency)} {currency}"


def percent(part: int, whole: int) -> str:
    return "—" if whole == 0 else f"{100 * part / whole:.1f}%"
