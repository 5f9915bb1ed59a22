"""Binding a server of `marquee run`: a host that is not this machine's is one line saying so and what to give."""

from __future__ import annotations

import pytest

from marquee_local.server import AddressUnavailableError, ServerThread


@pytest.mark.parametrize("host", ["999.1.1.1", "nosuch.invalid"])
def test_a_host_name_that_does_not_resolve_is_not_an_address_of_this_machine(host: str) -> None:
    """`marquee run --site-host 999.1.1.1` printed "[Errno -2] Name or service not known (while attempting to bind on
    address ('999.1.1.1', 8080))": create_server turns getaddrinfo's error into a plain OSError, which the check for
    an unresolvable name (a gaierror) missed, so the line said neither what was wrong nor what to give."""
    with pytest.raises(AddressUnavailableError) as refused:
        ServerThread.bind(host, 0, name="test", hint="unused")
    assert str(refused.value) == (
        f"cannot listen on {host}:0 (is not an address of this machine); use --host 127.0.0.1 (this machine only) "
        "or 0.0.0.0 (every interface) and a port from 1024 up"
    )


def test_a_bad_site_host_is_told_to_use_the_site_options_not_host(tmp_path: object) -> None:
    """`marquee run --site-host 999.1.1.1` was told to "use --host 127.0.0.1", the gateway's option: giving it changed
    nothing. The line names the options of the server that could not listen (the portal's, through its before_run)."""
    import argparse

    from marquee_local import site_server

    args = argparse.Namespace(site_host="999.1.1.1", site_port=0)
    with pytest.raises(AddressUnavailableError) as refused:
        site_server.before_run(args)
    assert str(refused.value) == (
        "cannot listen on 999.1.1.1:0 (is not an address of this machine); use --site-host 127.0.0.1 (this machine "
        "only) or 0.0.0.0 (every interface) and a port from 1024 up"
    )
    assert "--host " not in str(refused.value)
