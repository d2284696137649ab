"""A dialog's route set from the Record-Route of the INVITE we answer (RFC 3261 section 12).

pyVoIP 1.6.8 ignores Record-Route: its 200 OK does not copy it and its BYE goes straight to the
caller's Contact, so a record-routing proxy (a PBX, kamailio) never sees the end of the call.

As the UAS, our 2xx copies the INVITE's Record-Route values in order (12.1.1), and the route
set is those URIs *in the order received* (12.1.1; the UAC reverses its copy, 12.1.2, because
it reads them from the response: ``from_response``, for calls we place). Our in-dialog
requests then follow 12.2.1.1: with a loose router first (``;lr``) the Request-URI is the
remote target and every route is a Route header; with a strict router the first route becomes
the Request-URI and the remote target the last Route. Either way the request goes to the
first route.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._message import host_port, split_list, uri_of


@dataclass(frozen=True)
class RouteSet:
    record_route: tuple[str, ...] = ()  # the INVITE's Record-Route header lines, as received

    @classmethod
    def from_request(cls, header_lines: list[str]) -> RouteSet:
        return cls(tuple(header_lines))

    @classmethod
    def from_response(cls, header_lines: list[str]) -> RouteSet:
        """The route set of a dialog we created (UAC): the 2xx's Record-Route entries in
        reverse order (12.1.2), one entry a line."""
        entries = [entry for line in header_lines for entry in split_list(line)]
        return cls(tuple(reversed(entries)))

    @property
    def routes(self) -> list[str]:
        return [uri_of(entry) for line in self.record_route for entry in split_list(line)]

    def response_lines(self) -> str:
        """The Record-Route lines for a dialog-creating response (copied, order kept)."""
        return "".join(f"Record-Route: {line}\r\n" for line in self.record_route)

    def request(self, remote_target: str) -> tuple[str, list[str], tuple[str, int] | None]:
        """(Request-URI, Route values, next hop) for an in-dialog request; next hop None: no
        route set, send as without one."""
        routes = self.routes
        if not routes:
            return remote_target, [], None
        _, host, port, params = host_port(routes[0])
        if "lr" in params:
            return remote_target, [f"<{r}>" for r in routes], (host, port)
        # Strict router (RFC 2543 style): it becomes the Request-URI, without its headers.
        return (routes[0].split("?", 1)[0], [f"<{r}>" for r in routes[1:]]
                + [f"<{remote_target}>"], (host, port))
