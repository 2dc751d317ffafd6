"""Addresses to print for a server, so a tablet on the clinic network can open the page."""

from __future__ import annotations

import ipaddress
import socket


def lan_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses, as far as name resolution knows them (no
    network traffic is sent)."""
    found: list[str] = []
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, family=socket.AF_INET)
    except OSError:
        return found
    for *_, sockaddr in infos:
        addr = sockaddr[0]
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            continue
        if not ip.is_loopback and not ip.is_link_local and addr not in found:
            found.append(addr)
    return found


def urls_for(host: str, port: int) -> list[str]:
    """The URLs a person can open: the host itself, or for a wildcard bind (0.0.0.0, ::) each LAN
    address of this machine and then localhost."""
    if host in ("0.0.0.0", "::", ""):
        return [f"http://{a}:{port}/" for a in lan_addresses()] + [f"http://127.0.0.1:{port}/"]
    shown = f"[{host}]" if ":" in host else host
    return [f"http://{shown}:{port}/"]
