"""GeoJSON built by PostgreSQL: one query returns the whole FeatureCollection as text.

Maps at city scale send thousands of features; building them row by row in Python costs more
than the query. `feature_collection` wraps any SELECT (the rows are `t`) and aggregates one
`feature` expression per row with json_agg; `geometry` and `properties` are SQL expressions
over `t`'s columns (`feature()` builds the expression).
"""

from __future__ import annotations

import json

from django.db import connection


def feature(*, geometry: str, properties: dict[str, str], id: str | None = None) -> str:
    """The SQL expression of one GeoJSON Feature; values are SQL expressions over `t`."""
    props = ", ".join(f"'{name}', {expr}" for name, expr in properties.items())
    head = f"'type', 'Feature', 'id', {id}, " if id else "'type', 'Feature', "
    return (
        f"json_build_object({head}'geometry', {geometry}, 'properties', json_build_object({props}))"
    )


def feature_collection(
    sql: str,
    params,
    *,
    feature: str,
    members: dict | None = None,
    where: str = "",
    at_most: int | None = None,
) -> str | None:
    """A FeatureCollection (text) of `feature` over the rows of `sql` (aliased `t`).

    `members` are extra top-level JSON members (constants); `where` filters `t`; with
    `at_most`, more rows than that give None instead (the caller then sends something
    coarser).
    """
    head = '{"type":"FeatureCollection",'
    head += "".join(f"{json.dumps(k)}:{json.dumps(v)}," for k, v in (members or {}).items())
    head += '"features":'
    body = f"%s || coalesce(json_agg({feature})::text, '[]') || '}}'"
    if at_most is not None:
        body = f"CASE WHEN count(*) > {int(at_most)} THEN NULL ELSE {body} END"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {body} FROM ({sql}) AS t {where}", (head, *params))
        return cursor.fetchone()[0]
