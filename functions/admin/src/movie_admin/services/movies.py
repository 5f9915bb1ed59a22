"""Admin use cases for the catalogue: list, search, sort, create, edit and delete movies, validated by the same
rules as CSV ingest rows (movie_common.movie_rules)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from movie_admin.audit import Actor, record, snapshot
from movie_admin.pages import Page, offset_of
from movie_admin.versions import check_if_match, entity_tag
from movie_common import movie_rules
from movie_common.database import Connection
from movie_common.db import movies, tmdb
from movie_common.db.movies import AdminMovie, AdminMovieFilters, MovieFields
from movie_common.db.tmdb import BlockedTitle
from movie_common.errors import (
    DuplicateMovieError,
    InvalidParameter,
    NotFoundError,
    RequestValidationError,
)

SORTS = tuple(movies.ADMIN_SORTS)
# What the admin form writes. popularity and tmdb_id belong to the TMDB sync, which keeps them current.
EDITABLE = tuple(name for name in movie_rules.FIELDS if name not in ("popularity", "tmdb_id"))
_AUDITED = ("id", *EDITABLE, "source", "tmdb_filled")


def list_movies(
    conn: Connection, *, filters: AdminMovieFilters, sort: str, page: int, per_page: int
) -> Page[AdminMovie]:
    """Movies matching `filters` (title substring, year, media type, source, genre) in `sort` order."""
    rows, total = movies.list_admin_movies(
        conn, filters=filters, sort=sort, limit=per_page, offset=offset_of(page, per_page)
    )
    return Page(rows, page, per_page, total)


def get_movie(conn: Connection, *, movie_id: int) -> AdminMovie:
    movie = movies.get_admin_movie(conn, movie_id=movie_id)
    if movie is None:
        raise NotFoundError(f"There is no movie with id {movie_id}.")
    return movie


def version_tag(movie: AdminMovie) -> str:
    """The movie's strong entity tag (`ETag`): a digest of every column the admin API shows, so any change to the
    row, by an admin, an ingest or the sync, gives another tag."""
    return entity_tag(dataclasses.asdict(movie))


def _check_if_match(movie: AdminMovie, if_match: str | None) -> None:
    check_if_match(version_tag(movie), if_match, what=f"Movie {movie.id}")


def _validated(values: Mapping[str, object], *, year_from_title: bool = True) -> MovieFields:
    """The movie_rules check of the form's values: RequestValidationError naming every bad field (with the rule's
    stable code and its sentence), including fields the form may not write. year_from_title: as check_movie's."""
    unknown = [
        InvalidParameter(name, "body", "not_editable: not a field the admin can write")
        for name in values
        if name not in EDITABLE
    ]
    checked = movie_rules.check_movie(values, source="admin", year_from_title=year_from_title)
    errors = unknown + [InvalidParameter(e.field, "body", f"{e.code}: {e.message}") for e in checked.errors]
    if errors or checked.movie is None:
        raise RequestValidationError("The movie is not valid; see each field.", errors)
    row = checked.movie
    return MovieFields(
        title=row.title,
        year=row.year,
        genre=row.genre,
        director=row.director,
        actors=row.actors,
        plot=row.plot,
        poster_url=row.poster_url,
        media_type=row.media_type or "movie",
        release_date=row.release_date,
        runtime=row.runtime,
        rating=row.rating,
        imdb_id=row.imdb_id,
    )


def _duplicate(conn: Connection, fields: MovieFields) -> DuplicateMovieError:
    existing = movies.find_title_year(conn, title=fields.title, year=fields.year)
    year = "with no year" if fields.year is None else f"of {fields.year}"
    return DuplicateMovieError(
        f"{fields.title!r} {year} is in the catalogue already (movie {existing}); edit that one instead.",
        existing_id=existing,
    )


def create_movie(conn: Connection, actor: Actor, *, values: Mapping[str, object]) -> AdminMovie:
    """Add a movie (source 'admin'). RequestValidationError for bad fields; DuplicateMovieError when its
    normalised title and year are another movie's (titles differing only in case, accents or spaces are one)."""
    fields = _validated(values)
    with conn.transaction():
        movie_id = movies.insert_movie(conn, fields=fields, source="admin")
        if movie_id is None:
            raise _duplicate(conn, fields)
        created = get_movie(conn, movie_id=movie_id)
        record(
            conn,
            actor,
            action="movie.create",
            target_type="movie",
            target_id=movie_id,
            after=snapshot(created, fields=_AUDITED),
        )
    return created


def update_movie(
    conn: Connection, actor: Actor, *, movie_id: int, changes: Mapping[str, object], if_match: str | None = None
) -> AdminMovie:
    """Change some fields of a movie; the others keep their values, and the whole movie is validated again.
    A changed field is the admin's from then on: the TMDB sync stops rewriting it (a TMDB row becomes an admin row
    whose other TMDB fields the sync keeps current; see movies.update_movie). Values equal to the stored ones change
    nothing and are not audited. NotFoundError; RequestValidationError; DuplicateMovieError when the new title +
    year are another movie's. if_match: an If-Match header (see version_tag), checked under the row's lock: a
    movie changed since the client read it is PreconditionFailedError, so a stale form cannot undo another change."""
    with conn.transaction():
        before = movies.get_admin_movie(conn, movie_id=movie_id, lock=True)
        if before is None:
            raise NotFoundError(f"There is no movie with id {movie_id}.")
        _check_if_match(before, if_match)
        current: dict[str, Any] = {name: getattr(before, name) for name in EDITABLE}
        # A title left as stored is not read again for a year: clearing `Heat (1995)`'s year leaves its title.
        fields = _validated({**current, **changes}, year_from_title="title" in changes)
        changed = [name for name in MovieFields.__dataclass_fields__ if getattr(fields, name) != getattr(before, name)]
        if not changed:
            return before  # nothing to write, nothing to audit
        if not movies.update_movie(conn, movie_id=movie_id, fields=fields, changed=changed):
            raise _duplicate(conn, fields)
        after = get_movie(conn, movie_id=movie_id)
        record(
            conn,
            actor,
            action="movie.update",
            target_type="movie",
            target_id=movie_id,
            before=snapshot(before, fields=_AUDITED),
            after=snapshot(after, fields=_AUDITED),
        )
    return after


def delete_movie(conn: Connection, actor: Actor, *, movie_id: int, if_match: str | None = None) -> AdminMovie:
    """Remove a movie from the catalogue; returns it as it was. A movie with a TMDB id is blocked from the TMDB
    sync (tmdb_blocked_titles), so that a TMDB list still showing it does not bring it back; an admin allows it
    again with allow_tmdb_title. The audit entry's `after` names the block. NotFoundError; PreconditionFailedError
    when `if_match` (an If-Match header) does not name its current version."""
    with conn.transaction():
        before = movies.get_admin_movie(conn, movie_id=movie_id, lock=True)
        if before is None:
            raise NotFoundError(f"There is no movie with id {movie_id}.")
        _check_if_match(before, if_match)
        movies.delete_movie(conn, movie_id=movie_id)
        after = None
        if before.tmdb_id is not None:
            tmdb.block_title(
                conn,
                media_type=before.media_type,
                tmdb_id=before.tmdb_id,
                title=before.title,
                year=before.year,
                movie_id=movie_id,
                blocked_by=actor.admin_id,
                actor=actor.name,
            )
            after = {"tmdb_blocked": {"media_type": before.media_type, "tmdb_id": before.tmdb_id}}
        record(
            conn,
            actor,
            action="movie.delete",
            target_type="movie",
            target_id=movie_id,
            before=snapshot(before, fields=_AUDITED),
            after=after,
        )
    return before


def list_blocked_titles(conn: Connection, *, page: int, per_page: int) -> Page[BlockedTitle]:
    """The TMDB titles admins deleted, which the sync does not add again; the latest first."""
    rows, total = tmdb.list_blocked(conn, limit=per_page, offset=offset_of(page, per_page))
    return Page(rows, page, per_page, total)


def allow_tmdb_title(conn: Connection, actor: Actor, *, media_type: str, tmdb_id: int) -> BlockedTitle:
    """Undo a deletion's block: the next sync adds the title again if a TMDB list shows it. Audited as
    `tmdb_title.allow`. NotFoundError when the title is not blocked."""
    with conn.transaction():
        removed = tmdb.unblock_title(conn, media_type=media_type, tmdb_id=tmdb_id)
        if removed is None:
            raise NotFoundError(f"TMDB {media_type} {tmdb_id} is not blocked from the sync.")
        record(
            conn,
            actor,
            action="tmdb_title.allow",
            target_type="tmdb_title",
            target_id=f"{media_type}:{tmdb_id}",
            before=snapshot(removed),
        )
    return removed
