"""Free loopback ports for tests that start servers, each test file in its own range."""

import socket

import pytest


def free_port(ports: range) -> int:
    """The first port of `ports` nothing listens on (bind-checked on 127.0.0.1)."""
    for port in ports:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail(f"no free port in {ports.start}-{ports.stop - 1}")
