"""`marquee ingest FILE [--mode upsert|replace|validate]`: the file goes into the drop folder (marquee_local.dropfolder)
and IngestFunction's handler runs on it at once, in this process, with the S3-shaped event; the job is printed as one
JSON object (a command module: see marquee_local.cli)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from marquee_local import arguments, stack
from marquee_local.dropfolder import configure, invoke_in_process, place_upload, upload_event


def cmd_ingest(args: argparse.Namespace) -> int:
    from movie_common.db import ingest_jobs, usage
    from movie_common.errors import IngestFileError
    from movie_common.migrations import migrate
    from movie_ingest.reading import delimiter_from_name, encoding_from_name

    source = Path(args.file)
    if not source.is_file():
        print(f"marquee ingest: {source} is not a file", file=sys.stderr)
        return 2
    # Checked before the file becomes a job: a job failed by a mistyped option kept its content, so the corrected
    # command then did nothing ("already ingested … its options stand") until the file was renamed.
    try:
        if args.delimiter:
            delimiter_from_name(args.delimiter)
        if args.encoding:
            encoding_from_name(args.encoding)
    except IngestFileError as error:
        print(f"marquee ingest: {error.detail} Nothing was ingested.", file=sys.stderr)
        return 2
    database = stack.open_database()
    stack.configure_environment(database.url)
    uploads = configure(stack.marquee_home())
    with stack.connect_admin(database.url) as conn:
        migrate(conn)
        usage.ensure_partitions(conn)
    metadata = {"origin": "cli", "requested-by": "marquee ingest"}
    if args.delimiter:
        metadata["delimiter"] = args.delimiter
    if args.encoding:
        metadata["encoding"] = args.encoding
    key = place_upload(source, uploads, mode=args.mode, keep_tmdb=not args.drop_tmdb, metadata=metadata)
    _logs_to_stderr()
    result = invoke_in_process(upload_event(uploads, key))
    if not result["jobs"]:
        print(f"marquee ingest: {key} could not be read from {uploads}", file=sys.stderr)
        return 1
    with stack.connect_admin(database.url) as conn:
        job = ingest_jobs.get_job(conn, job_id=result["jobs"][0]["id"], errors_limit=args.max_errors)
    if job is None:  # the handler just reported it; only a concurrent delete could do this
        print("marquee ingest: the job vanished", file=sys.stderr)
        return 1
    output = job.as_dict()
    output["ran"] = result["jobs"][0]["ran"]  # False: this very content was ingested before (that job is shown)
    output["errors_truncated"] = job.error_count > len(job.errors)
    if job.report_key:
        output["report"] = str(uploads / job.report_key)
    print(json.dumps(output, ensure_ascii=False, indent=2))
    if not output["ran"]:  # the counts printed are that earlier job's: say so, or they read as this run's
        print(
            f"marquee ingest: nothing was done now: this content was already ingested as {key} (job {job.id}, "
            f"{job.status}) with the same options, whose counts are shown. To ingest it again (say, after its "
            "movies were edited or deleted), rename or change the file.",
            file=sys.stderr,
        )
    return 0 if job.status == "done" else 1


def _logs_to_stderr() -> None:
    """IngestFunction's Powertools logger writes JSON lines to stdout, as in Lambda; here stdout holds the job."""
    from movie_ingest.handler import logger

    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.stream = sys.stderr  # not setStream: it flushes the old stream, which may be closed


def register(commands: Any) -> None:
    """`marquee ingest FILE [--mode upsert|replace|validate]`."""
    ingest = commands.add_parser(
        "ingest",
        help="ingest a CSV through IngestFunction's handler and print the job as JSON (exit 1 when it fails)",
        description="Copies FILE into the drop folder ($MARQUEE_HOME/uploads/incoming/, in the mode's subfolder) and "
        "runs IngestFunction's handler on it with an S3-shaped event. The same file content under the same name is "
        "ingested once; the job it made is printed again.",
    )
    ingest.add_argument("file", help="a CSV file (.csv, .tsv, .txt; gzip allowed)")
    ingest.add_argument(
        "--mode",
        choices=("upsert", "replace", "validate"),
        default="upsert",
        help="upsert (default): add new movies and update matched ones; replace: the file's valid rows become the "
        "whole catalogue, in one transaction (refused when too many rows are bad); validate: check every row, "
        "change nothing",
    )
    ingest.add_argument(
        "--drop-tmdb", action="store_true", help="replace mode: delete rows that came from TMDB too (kept otherwise)"
    )
    ingest.add_argument("--delimiter", help="comma, semicolon, tab or pipe (default: sniffed)")
    ingest.add_argument("--encoding", help="a Python codec name such as cp1252 (default: detected)")
    ingest.add_argument(
        "--max-errors",
        type=arguments.int_at_least(0),
        default=1000,
        help="reported rows to print, 0 or more (all are in the report)",
    )
    ingest.set_defaults(func=cmd_ingest)
