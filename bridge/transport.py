"""ZeroMQ plumbing shared by the servers and clients: timeouts, reconnects, clear errors.

Request/reply sockets are used with a receive timeout; when a peer does not answer in time
the client raises `BridgeDown` (and rebuilds its socket, since a REQ socket that missed its
reply is stuck). Servers never die on a bad message: they answer with a `Reply(ok=False)`
and log what was wrong.
"""

from __future__ import annotations

import logging

import zmq

from bridge.messages import MessageError, Reply, decode, encode

log = logging.getLogger("bridge")


class BridgeDown(RuntimeError):
    """The peer process did not answer in time: it is dead, hung or unreachable."""


class RemoteError(RuntimeError):
    """The peer answered with an error (e.g. it could not decode or serve our request)."""


class RpcClient:
    """A REQ socket with a timeout per call."""

    def __init__(self, endpoint: str, peer: str, timeout_s: float = 5.0, context: zmq.Context | None = None) -> None:
        self.endpoint = endpoint
        self.peer = peer
        self.timeout_s = timeout_s
        self.context = context or zmq.Context.instance()
        self._socket: zmq.Socket | None = None
        self._connect()

    def _connect(self) -> None:
        if self._socket is not None:
            self._socket.close(linger=0)
        self._socket = self.context.socket(zmq.REQ)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.connect(self.endpoint)

    def call_raw(self, payload: bytes, timeout_s: float | None = None) -> bytes:
        assert self._socket is not None
        self._socket.send(payload)
        timeout = self.timeout_s if timeout_s is None else timeout_s
        if not self._socket.poll(int(timeout * 1000), zmq.POLLIN):
            self._connect()
            raise BridgeDown(
                f"the {self.peer} at {self.endpoint} did not answer within {timeout:.1f} s; "
                "it has probably died or hung (check its log above)"
            )
        return self._socket.recv()

    def call(self, message, expect: type, timeout_s: float | None = None):
        raw = self.call_raw(encode(message), timeout_s)
        try:
            reply = decode(raw)
        except MessageError as exc:
            raise RemoteError(f"the {self.peer} sent a malformed reply: {exc}") from None
        if isinstance(reply, Reply) and not reply.ok and expect is not Reply:
            raise RemoteError(f"the {self.peer} refused the request: {reply.error}")
        if not isinstance(reply, expect):
            raise RemoteError(f"the {self.peer} answered with {type(reply).__name__}, expected {expect.__name__}")
        return reply

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None


def bind_rep(endpoint: str, context: zmq.Context | None = None) -> zmq.Socket:
    sock = (context or zmq.Context.instance()).socket(zmq.REP)
    sock.setsockopt(zmq.LINGER, 0)
    sock.bind(endpoint)
    return sock


def error_reply(text: str) -> bytes:
    return encode(Reply(ok=False, error=text))
