"""A plain app on the same stack for ``bench.large``: a minimal FastAPI app that answers each list
with its bare SQL, so a list's cost is seen in three parts: the database (the bare query), what
a plain app on this stack pays around it (this app), and the platform's own work on top
(everything ``api.main.create_app`` adds).

The app is what the FastAPI and SQLAlchemy tutorials build, on the same database and served the
same way (httpx's ASGI transport, in the benchmark's process): a ``def`` session dependency, a
``def`` dependency that verifies the caller's bearer token (the platform's own tokens and secret)
and reads their user row, and a ``def`` route that runs the case's SQL on the session and returns
the rows of its first page as JSON (through the plain-dict response model its annotation
implies), or 404 when there is none. It has no middleware, no authorisation beyond the token, no
pagination cursor, no typed response model, no decryption and no audit entry. It is not a floor:
it takes the thread hops the platform's dependencies avoid (``api.deps``), and one list came
out cheaper on the platform. The workbench's pages are answered as JSON too, so for them the
template's rendering is part of the platform's share.
"""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations, which name
# dependencies local to ``minimal_app``, and a string annotation cannot see those.
from collections.abc import Iterator, Sequence
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session, sessionmaker

from bench.large_cases import Case
from db.models import User
from security.tokens import InvalidToken, decode_token


def minimal_app(sessions: sessionmaker[Session], secret: str, cases: Sequence[Case]) -> FastAPI:
    """The app: ``GET /cases/{index}`` answers ``cases[index]``'s SQL for a signed-in caller."""
    app = FastAPI()
    bearer = OAuth2PasswordBearer(tokenUrl="/token")

    def session() -> Iterator[Session]:
        with sessions() as opened:
            yield opened

    def caller(
        token: Annotated[str, Depends(bearer)], db: Annotated[Session, Depends(session)]
    ) -> User:
        try:
            claims = decode_token(token, secret=secret)
        except InvalidToken:
            raise HTTPException(401, "invalid token") from None
        user = db.get(User, claims.sub)
        if user is None or not user.active:
            raise HTTPException(401, "inactive")
        return user

    @app.get("/cases/{index}")
    def answer(
        index: int,
        db: Annotated[Session, Depends(session)],
        _: Annotated[User, Depends(caller)],
    ) -> list[dict[str, Any]]:
        case = cases[index]
        rows = db.connection().exec_driver_sql(case.sql, case.sql_params).all()
        if not rows:
            raise HTTPException(404, "not found")
        # The page's items are the first ``limit`` keys (the first column), as ``bench.large``
        # checks the platform's: a joined SQL has several rows an item.
        page = set(list(dict.fromkeys(row[0] for row in rows))[: case.limit])
        return [dict(row._mapping) for row in rows if row[0] in page]

    return app
