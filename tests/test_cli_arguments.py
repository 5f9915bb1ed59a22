"""The numbers of every `marquee` option are checked when the command line is read: a port is 0 to 65535 (0: any
free one), a count or a timeout is never negative, and two servers of one run never get the same port. A refused
value is argparse's usage and exit status 2 (nothing starts); the same ports are one line and exit status 1."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from marquee_local import cli, runs

# Every numeric option of every subcommand (a new one belongs here), with values it must refuse and one it takes.
NUMERIC_OPTIONS = [
    (["run"], "--port", ["99999", "65536", "-1", "80.5", "x"], "0"),
    (["run"], "--site-port", ["99999", "-1"], "65535"),
    (["run"], "--aws-port", ["70000", "-2"], "8002"),
    (["run"], "--environments", ["0", "-3"], "1"),
    (["stop"], "--timeout", ["-1", "-0.5", "nan", "inf", "soon"], "0"),
    (["ingest", "movies.csv"], "--max-errors", ["-5", "-1", "1.5"], "0"),
    (["keys", "list"], "--page", ["0", "-1"], "2"),
    (["keys", "list"], "--per-page", ["0", "-10", "1001"], "1000"),
]


def _numeric_options(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> set[tuple[tuple[str, ...], str]]:
    """(subcommand path, option) for every option of the parser tree whose type is not a string."""
    found: set[tuple[tuple[str, ...], str]] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found |= _numeric_options(sub, (*path, name))
        elif action.type is not None and action.option_strings:
            found.add((path, action.option_strings[0]))
    return found


def test_every_numeric_option_is_listed_here() -> None:
    listed = {(tuple(a for a in command if a != "movies.csv"), option) for command, option, _, _ in NUMERIC_OPTIONS}
    assert _numeric_options(cli.build_parser()) == listed


def _undescribed(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[str]:
    """`subcommand path: argument` for every argument and subcommand of the parser tree without help text."""
    missing: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            described = {choice.dest for choice in action._choices_actions if choice.help}
            for name, sub in action.choices.items():
                if name not in described and sub.description is None:
                    missing.append(" ".join((*path, name)))
                missing += _undescribed(sub, (*path, name))
        elif not action.help and not isinstance(action, argparse._HelpAction):
            missing.append(f"{' '.join(path) or 'marquee'}: {'/'.join(action.option_strings) or action.dest}")
    return missing


def test_every_subcommand_and_argument_says_what_it_does() -> None:
    # A tester found `marquee ingest --mode` listed in --help with its choices and no word on what they do.
    assert _undescribed(cli.build_parser()) == []


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [(command, option, value) for command, option, refused, _ in NUMERIC_OPTIONS for value in refused],
)
def test_an_out_of_range_number_is_refused_before_anything_runs(
    command: list[str], option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.build_parser().parse_args([*command, f"{option}={value}"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"error: argument {option}" in err and "Traceback" not in err


@pytest.mark.parametrize(("command", "option", "value"), [(c, o, v) for c, o, _, v in NUMERIC_OPTIONS])
def test_a_number_in_range_is_taken(command: list[str], option: str, value: str) -> None:
    args = cli.build_parser().parse_args([*command, option, value])
    assert getattr(args, option.lstrip("-").replace("-", "_")) == float(value)


@pytest.mark.parametrize(
    ("ports", "named"),
    [
        (["--port", "8001", "--site-port", "8001"], "--port and --site-port are both 8001"),
        (["--site-port", "9000", "--aws-port", "9000"], "--site-port and --aws-port are both 9000"),
        (["--port", "8080"], "--port and --site-port are both 8080"),  # the portal's default
    ],
)
def test_one_port_for_two_servers_is_refused_up_front(
    ports: list[str], named: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MARQUEE_HOME", str(tmp_path))
    assert cli.main(["run", *ports]) == 1
    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert line.startswith(f"marquee run: {named}, and ") and "need a port each" in line
    assert "--port 8001 --site-port 8081" in line and "0 for any free one" in line
    assert "in use" not in line and captured.out == ""
    assert runs.live_runs(tmp_path) == [] and not (tmp_path / "pgdata").exists()  # nothing started


def test_port_zero_may_repeat() -> None:
    from marquee_local import run

    run.check_ports(cli.build_parser().parse_args(["run", "--port", "0", "--site-port", "0", "--aws-port", "0"]))


def test_psql_help_describes_the_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["psql", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: marquee psql")
    assert "DATABASE_URL" in out and "arguments after `--` go to psql" in out and "marquee psql -- --help" in out


def test_psql_arguments_after_the_double_dash_go_to_psql_without_it() -> None:
    passed = []
    for argv in (["psql", "--", "--help"], ["psql", "-h", "localhost", "-c", "SELECT 1"], ["psql", "-X", "--", "-1"]):
        _, passed_on = cli.build_parser().parse_known_args(argv)
        passed.append(cli._psql_arguments(passed_on))
    assert passed == [["--help"], ["-h", "localhost", "-c", "SELECT 1"], ["-X", "-1"]]


@pytest.mark.parametrize("value", ["bad host", "http://api.example.com", "api.example.com/v1", "x:99999", "x:", ":80"])
def test_a_public_host_that_is_not_host_and_port_is_refused_up_front(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`marquee run --public-host 'http://x'` (or 'bad host', or a port past 65535) started a stack whose every
    Link header and /openapi.json server was a URL no client could follow (`http://http://x/movies…`)."""
    monkeypatch.setenv("MARQUEE_HOME", str(tmp_path))
    monkeypatch.setattr(cli.run, "serve_until_stopped", lambda *args, **kwargs: 0)  # had it got that far: served
    assert cli.main(["run", "--public-host", value]) == 1
    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert line.startswith(f"marquee run: --public-host {value!r} is not host[:port]")
    assert runs.live_runs(tmp_path) == [] and not (tmp_path / "pgdata").exists()  # nothing started


@pytest.mark.parametrize("value", ["api.example.com", "api.example.com:8000", "192.168.1.5:8000", "[::1]:8000", "x"])
def test_a_public_host_of_host_and_port_is_taken(value: str) -> None:
    from marquee_local import run

    run.check_public_host(cli.build_parser().parse_args(["run", "--public-host", value]))
