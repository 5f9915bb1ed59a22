"""Starting and stopping `marquee run` as a process, the way people and tools do it: Ctrl-C, SIGTERM (kill, an
IDE, a process manager), SIGHUP (the terminal closed), `marquee stop`, and kill -9. Whatever the stop, nothing of the
stack (the embedded PostgreSQL, the local Lambda environments) runs once it, or the next `marquee run` or
`marquee stop`, is done."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import psutil
import pytest

from marquee_local import postgres, runs

pytestmark = pytest.mark.slow

MARQUEE = Path(sys.executable).with_name("marquee")
REPO = Path(__file__).resolve().parents[1]
# What the test session's own stack set in this process's environment (stack.configure_environment): a `marquee`
# started from here must work out its own.
STACK_VARIABLES = {
    "DATABASE_URL",
    "OUTBOX_DIR",
    "UPLOADS_LOCAL_ROOT",
    "CORS_ALLOW_ORIGIN",
    "PORTAL_URL",
    "USAGE_PLAN_KEYS",
}
SEED = "title,year,genre,director,actors,plot,poster_url\nThe Lifecycle,2001,Drama,A. Director,One|Two,A plot.,\n"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One $MARQUEE_HOME for the module (initialised once); a one-film catalogue keeps first starts short."""
    folder = tmp_path_factory.mktemp("lifecycle-home")
    (folder / "seed.csv").write_text(SEED, encoding="utf-8")
    yield folder
    _command(folder, "stop")


@pytest.fixture(autouse=True)
def _stop_what_a_test_left() -> Iterator[None]:
    """A test that fails half-way leaves its stack running; stop it, so the next test starts from nothing."""
    yield
    while Stack.started:
        stack = Stack.started.pop()
        if stack.process.poll() is None:
            stack.process.send_signal(signal.SIGTERM)
            try:
                stack.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                stack.process.kill()
                stack.process.wait(timeout=30)
        _command(stack.home, "stop")


def _environment(home: Path, catalogue: Path | None = None) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in STACK_VARIABLES}
    env.update(MARQUEE_HOME=str(home), MARQUEE_CATALOGUE=str(catalogue or home / "seed.csv"))
    return env


def _command(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MARQUEE), *args], env=_environment(home), capture_output=True, text=True, timeout=120, check=False
    )


def _terminal_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Stack:
    """A `marquee run` subprocess on a free port, and the processes it started."""

    started: ClassVar[list[Stack]] = []  # every one a test started, for _stop_what_a_test_left

    def __init__(self, home: Path, *extra: str, catalogue: Path | None = None) -> None:
        self.home = home
        self.log = home / f"run-{time.monotonic_ns()}.log"
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [str(MARQUEE), "run", "--port", "0", "--site-port", "0", "--quiet", "--environments", "1", *extra],
                env=_environment(home, catalogue),
                stdout=output,
                stderr=subprocess.STDOUT,
                # As a terminal starts it: Ctrl-C not ignored. A suite started in the background by a non-interactive
                # shell (`cmd &`) ignores SIGINT, and children inherit that (the cause of two failed CI-like runs).
                preexec_fn=_terminal_signals,
            )
        self.url = ""
        self.children: list[psutil.Process] = []
        Stack.started.append(self)

    def wait_serving(self, timeout: float = 180.0) -> Stack:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            record = next((r for r in runs.live_runs(self.home) if r.pid == self.process.pid), None)
            if record is not None and record.api_url:
                self.url = record.api_url
                assert httpx.get(self.url + "/health", timeout=30).status_code == 200
                self.children = psutil.Process(self.process.pid).children(recursive=True)
                assert self.children, "the Lambda environments are the run's children"
                return self
            time.sleep(0.1)
        raise AssertionError(f"marquee run did not serve within {timeout:.0f} s:\n{self.output()}")

    def signal(self, number: int) -> int:
        self.process.send_signal(number)
        try:
            return self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            # What it is stuck on: `marquee run` prints every thread's stack on SIGUSR1 (faulthandler).
            self.process.send_signal(signal.SIGUSR1)
            time.sleep(2)
            self.process.kill()
            raise AssertionError(
                f"marquee run did not stop within 120 s of signal {number}:\n{self.output()}"
            ) from None

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _processes_of(home: Path) -> list[str]:
    """Command lines of running processes that name the folder (the PostgreSQL server and its workers do)."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(home) in cmdline and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(cmdline)
    return found


def _assert_nothing_left(stack: Stack) -> None:
    _, alive = psutil.wait_procs(stack.children, timeout=20)
    assert not alive, [p.cmdline() for p in alive]
    assert postgres.server_pid(stack.home / "pgdata") is None
    assert _processes_of(stack.home) == []
    assert runs.live_runs(stack.home) == []


def _handles(home: Path) -> list[int]:
    return list(json.loads((home / "pgdata" / postgres.HANDLE_FILE).read_text()))


def test_sigterm_stops_the_stack_and_its_postgresql(home: Path) -> None:
    stack = Stack(home).wait_serving()
    assert postgres.server_pid(home / "pgdata") is not None
    # SIGUSR1 prints every thread's stack (what a stack that will not stop waits on) and stops nothing.
    stack.process.send_signal(signal.SIGUSR1)
    # faulthandler writes the dump a piece at a time: wait for the main thread's frame, not just the first line.
    deadline = time.monotonic() + 10
    while "serve_until_stopped" not in stack.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "Thread 0x" in stack.output() and "serve_until_stopped" in stack.output()
    assert stack.process.poll() is None
    assert stack.signal(signal.SIGTERM) == 0
    assert "stopping" in stack.output()
    _assert_nothing_left(stack)


def test_sighup_stops_it_as_well(home: Path) -> None:
    stack = Stack(home).wait_serving()
    assert stack.signal(signal.SIGHUP) == 0
    _assert_nothing_left(stack)


def test_ctrl_c_stops_it(home: Path) -> None:
    stack = Stack(home).wait_serving()
    assert stack.signal(signal.SIGINT) == 0
    _assert_nothing_left(stack)


def test_marquee_stop_stops_a_running_stack(home: Path) -> None:
    stack = Stack(home).wait_serving()
    done = _command(home, "stop")
    assert done.returncode == 0, done.stderr
    assert f"stopped marquee run (pid {stack.process.pid}, {stack.url})" in done.stdout
    assert stack.process.wait(timeout=60) == 0
    _assert_nothing_left(stack)
    again = _command(home, "stop")
    assert again.stdout.strip() == f"nothing was running for {home}"


def test_after_kill_9_marquee_stop_leaves_nothing_running(home: Path) -> None:
    stack = Stack(home).wait_serving()
    assert stack.signal(signal.SIGKILL) == -signal.SIGKILL
    # What kill -9 leaves: the server, and the dead run's pid in the handle file.
    assert postgres.server_pid(home / "pgdata") is not None
    assert stack.process.pid in _handles(home)
    done = _command(home, "stop")
    assert done.returncode == 0 and f"stopped PostgreSQL ({home / 'pgdata'})" in done.stdout, done
    _assert_nothing_left(stack)


def test_after_kill_9_the_next_run_stops_everything_when_it_stops(home: Path) -> None:
    killed = Stack(home).wait_serving()
    killed.signal(signal.SIGKILL)
    assert killed.process.pid in _handles(home)
    following = Stack(home).wait_serving()
    assert killed.process.pid not in _handles(home)  # the dead run's handle was dropped on the way in
    assert following.signal(signal.SIGTERM) == 0
    _assert_nothing_left(killed)
    _assert_nothing_left(following)


def test_a_stale_pid_in_the_handle_file_never_prevents_the_stop(home: Path) -> None:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    stack = Stack(home).wait_serving()
    handles = home / "pgdata" / postgres.HANDLE_FILE
    handles.write_text(json.dumps([ended.pid, *_handles(home)]))  # a holder that died without letting go
    assert stack.signal(signal.SIGTERM) == 0
    _assert_nothing_left(stack)


def test_a_second_run_on_a_taken_port_says_so_in_one_line_and_leaves_the_first_alone(home: Path) -> None:
    first = Stack(home).wait_serving()
    port = first.url.rsplit(":", 1)[1]
    second = subprocess.run(
        [str(MARQUEE), "run", "--port", port, "--site-port", "0", "--quiet", "--environments", "1"],
        env=_environment(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert second.returncode == 1
    assert "Traceback" not in second.stdout + second.stderr and "AttributeError" not in second.stdout
    [line] = [line for line in second.stdout.splitlines() if "did not start" in line]
    assert line.startswith(f"gateway did not start: port {port} on 127.0.0.1 is already in use;")
    assert "marquee run --port 8001" in line and "make run PORT=8001" in line
    assert httpx.get(first.url + "/health", timeout=30).status_code == 200  # the first stack still serves
    assert first.signal(signal.SIGTERM) == 0
    _assert_nothing_left(first)


def test_sigterm_while_starting_then_marquee_stop_leaves_nothing(home: Path) -> None:
    stack = Stack(home)
    time.sleep(1.0)  # somewhere in the start: importing, starting PostgreSQL, migrating or binding
    stack.process.send_signal(signal.SIGTERM)
    assert stack.process.wait(timeout=120) in (0, 130)
    assert "Traceback" not in stack.output()
    assert _command(home, "stop").returncode == 0
    _assert_nothing_left(stack)


def test_sigterm_during_the_first_start_load_cancels_it_and_writes_nothing(tmp_path: Path) -> None:
    # The bundled catalogue, into a fresh folder: the API answers while it loads in the background.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    stack = Stack(fresh, catalogue=REPO / "data" / "movies.csv.gz").wait_serving()
    assert "Catalogue  loading data/movies.csv.gz in the background" in stack.output()
    health = httpx.get(stack.url + "/health", timeout=30).json()
    loading = health["movies"] < 36243
    assert stack.signal(signal.SIGTERM) == 0
    _assert_nothing_left(stack)
    assert "catalogue did not load" not in stack.output()
    if loading:  # the usual case: the load was cut short, and rolled back whole
        assert "catalogue load cancelled: nothing was written" in stack.output()
        db = postgres.start_embedded(fresh / "pgdata")
        try:
            import psycopg

            with psycopg.connect(db.url) as conn:
                row = conn.execute("SELECT count(*) FROM movies").fetchone()
            assert row is not None and row[0] == 0
        finally:
            db.stop()
    assert postgres.server_pid(fresh / "pgdata") is None


def test_a_folder_opened_twice_in_one_process_stops_only_when_both_let_go(home: Path) -> None:
    # A command run inside another (make examples runs `marquee create-key` in-process) must not stop the server
    # the outer one still uses.
    outer = postgres.start_embedded(home / "pgdata")
    inner = postgres.start_embedded(home / "pgdata")
    inner.stop()
    assert postgres.server_pid(home / "pgdata") is not None
    outer.stop()
    assert postgres.server_pid(home / "pgdata") is None


def test_a_killed_postgresql_is_said_and_restarted_and_the_api_answers_again(home: Path) -> None:
    stack = Stack(home).wait_serving()
    pgdata = home / "pgdata"
    pid = postgres.server_pid(pgdata)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # what a tester did: kill -9 $(head -1 .marquee/pgdata/postmaster.pid)
    deadline = time.monotonic() + 60
    status = 0
    while time.monotonic() < deadline:
        try:
            status = httpx.get(stack.url + "/health", timeout=10).status_code
        except httpx.HTTPError:
            status = 0
        # The watcher says "restarted" once the new server is up, which /health may see first: wait for both.
        restarted = "PostgreSQL restarted" in stack.output()
        if status == 200 and postgres.server_pid(pgdata) not in (None, pid) and restarted:
            break
        time.sleep(0.5)
    assert status == 200, stack.output()
    output = stack.output()
    [died] = [line for line in output.splitlines() if line.startswith("ERROR PostgreSQL exited")]
    assert f"pid {pid}, data folder {pgdata}" in died and "restarting it" in died
    assert f"PostgreSQL restarted (pid {postgres.server_pid(pgdata)}, data folder {pgdata})" in output
    # The restarted server is the run's own: it stops with the stack, as the first one would have.
    assert stack.signal(signal.SIGTERM) == 0
    _assert_nothing_left(stack)
