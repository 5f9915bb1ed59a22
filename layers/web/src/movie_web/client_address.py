"""The caller's address, for the per-address limits of the portals' sign-in, sign-up and reset routes."""

from __future__ import annotations

import ipaddress
from typing import Any

from fastapi import Request

# One IPv6 client holds a whole /64 (SLAAC gives every host one; privacy addresses rotate inside it), so a limit
# per IPv6 address is no limit: counted per address, a single machine could sign up, send mail and guess passwords
# without end by taking a new address of its /64 for each request.
IPV6_CLIENT_PREFIX = 64


def client_address(source: str) -> str:
    """The client a per-address limit counts for a source address: an IPv4 address as written; an IPv6 address as
    its /64 network (`2001:db8:1:2::/64`; `::1` as written), one IPv4-mapped (`::ffff:203.0.113.7`) as the IPv4
    address it maps. A value that is no address (never from API Gateway) is returned as it is."""
    try:
        address = ipaddress.ip_address(source.strip())
    except ValueError:
        return source
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        if address.is_loopback:  # ::1, this machine (the one-machine stack): no /64 of its own
            return str(address)
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
    return str(address)


def client_ip(request: Request) -> str:
    """The caller's address as API Gateway saw it (requestContext.identity.sourceIp): X-Forwarded-For is the
    client's to write, so limits never trust it. Without an event (tests on the ASGI app alone), the peer address.
    IPv6 callers are counted per /64 (client_address)."""
    event: dict[str, Any] | None = request.scope.get("aws.event")
    identity = ((event or {}).get("requestContext") or {}).get("identity") or {}
    source = identity.get("sourceIp")
    if source:
        return client_address(str(source))
    return client_address(request.client.host) if request.client else "unknown"
