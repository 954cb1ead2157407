"""What the Ctrl-C tests run in spawned processes, by name: a module of the standard library's
imports only, so that each process starts in a moment (a test module imports the project)."""
from __future__ import annotations

import pickle
import signal
import time


def sigint_ignored(*_) -> bool:
    return signal.getsignal(signal.SIGINT) == signal.SIG_IGN


def send_sigint_ignored(conn, *_) -> None:
    """An attempt's process (`attempts._child`'s arguments), answering as one that succeeded."""
    conn.send_bytes(pickle.dumps(("ok", sigint_ignored())))
    conn.close()


def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


class Detector:
    """The least of a detector that `attempts.Attempts` asks for."""

    def get_params(self, deep=False) -> dict:
        return {}
