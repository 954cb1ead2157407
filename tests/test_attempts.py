"""DUAD's restart attempts in their own processes (`videoad.detector.attempts`): the same fit, bit
for bit, as the attempts in turn; an attempt not needed is stopped; a failed process is fitted
here instead."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from videoad.detector import DUAD
from videoad.detector import attempts
from videoad.detector.attempts import attempt_processes, processes_for, when_worth_it
from videoad.detector.torch_base import thread_limits

PARAMS = dict(p0=25, p=20, r=2, max_reselections=2, n_components=4, clusterer="gmm",
              clusterer_params={"n_components": 4}, hidden_dims=[16], latent_dim=3, score="knn", restarts=1,
              random_state=5, batch_size=128)


def _rows(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    return np.r_[rng.normal(0, 1, (n, 8)), rng.normal(3, 1, (n // 20, 8))].astype(np.float32)


def _fit(processes, X, **kw):
    with thread_limits(1), attempt_processes(processes):
        return DUAD(**{**PARAMS, **kw}).fit(X)


def test_attempts_side_by_side_are_the_attempts_in_turn(tmp_path):
    X, Y = _rows(), _rows(400, seed=1)
    alone, side = _fit(1, X), _fit(2, X)
    assert [a["stop_reason"] for a in alone.restarts_] == ["max_reselections"] * 2  # both ran, both kept
    assert side.restarts_ == alone.restarts_ and len(side.members_) == 2
    np.testing.assert_array_equal(side.decision_scores_, alone.decision_scores_)
    np.testing.assert_array_equal(side.decision_function(Y), alone.decision_function(Y))
    assert side.get_params() == alone.get_params()
    side.save(tmp_path / "side.pt")
    np.testing.assert_array_equal(DUAD.load(tmp_path / "side.pt").decision_function(Y), alone.decision_function(Y))


def test_an_attempt_the_rule_does_not_need_is_stopped_and_a_failed_one_fitted_here(monkeypatch, caplog):
    X = _rows()
    settled = dict(max_reselections=30, tol=0.5)  # the first attempt settles: the second is not read
    alone = _fit(1, X, **settled)
    assert [a["stop_reason"] for a in alone.restarts_] == ["converged"]
    stopped = []
    real_stop = attempts.Attempts.stop

    def stop(self):
        stopped.extend(proc for proc, _ in self._running.values())
        real_stop(self)

    monkeypatch.setattr(attempts.Attempts, "stop", stop)
    side = _fit(2, X, **settled)
    assert side.restarts_ == alone.restarts_ and len(stopped) == 1 and not stopped[0].is_alive()
    np.testing.assert_array_equal(side.decision_scores_, alone.decision_scores_)

    real_result = attempts.Attempts.result

    def killed_first(self, k):  # the attempt's process dies before it sends its fit
        self._running[k][0].kill()
        self._running[k][0].join()
        return real_result(self, k)

    monkeypatch.setattr(attempts.Attempts, "result", killed_first)
    with caplog.at_level(logging.WARNING, logger="videoad"):
        again = _fit(2, X)
    assert any("restart attempt 1 failed in its own process; fitting it here instead" in r.getMessage()
               for r in caplog.records)
    np.testing.assert_array_equal(again.decision_scores_, _fit(1, X).decision_scores_)


def test_when_attempts_run_side_by_side(monkeypatch):
    det, big, small = DUAD(**PARAMS), np.zeros((attempts.WORTH_ROWS, 4), np.float32), np.zeros((100, 4), np.float32)
    assert processes_for(det, big) == 1  # nobody asked
    monkeypatch.setattr(attempts, "_cores", lambda: 2)
    monkeypatch.setattr(attempts, "_videoad_main", lambda: True)
    with when_worth_it():
        assert processes_for(det, big) == 2 and processes_for(det, small) == 1  # a start outweighs a small fit
        assert processes_for(DUAD(**{**PARAMS, "restarts": 0}), big) == 1
        with attempt_processes(1):  # the caller's word wins
            assert processes_for(det, big) == 1
        monkeypatch.setattr(attempts, "_videoad_main", lambda: False)  # a user's script: its main module
        assert processes_for(det, big) == 1                             # would run again in the process
        monkeypatch.setattr(attempts, "_cores", lambda: 1)
    with attempt_processes(3):
        assert processes_for(det, big) == 2  # one restart: two attempts at most
        assert processes_for(det, _frame_like(big)) == 1
    with pytest.raises(ValueError, match="whole number >= 1"):
        with attempt_processes(0):
            pass


def _frame_like(X):
    class Frame:  # not a numpy array: fitted in turn (its names stay with this process's fit)
        def __array__(self, dtype=None, copy=None):
            return X

    return Frame()


def test_an_attempts_process_ends_when_its_parent_is_killed(tmp_path):
    """A scheduler's SIGKILL (or a SIGTERM) to the command alone runs none of its clean-up, and the
    attempt's process went on fitting, orphaned, for as long as the fit takes."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "parent.py"
    script.write_text(
        "import multiprocessing as mp, os, time\n"
        "from videoad.detector.attempts import _die_with\n"
        "def child(parent):\n"
        "    _die_with(parent)\n"
        "    time.sleep(120)\n"
        "if __name__ == '__main__':\n"
        "    p = mp.get_context('spawn').Process(target=child, args=(os.getpid(),), daemon=True)\n"
        "    p.start()\n"
        "    print(p.pid, flush=True)\n"
        "    time.sleep(120)\n")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    child = int(parent.stdout.readline())
    time.sleep(1.0)  # the child has started its watch
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        with open(f"/proc/{child}/stat") as fh:  # reaped by init once it exits: a zombie counts as ended
            if fh.read().split()[2] == "Z":
                break
        time.sleep(0.2)
    else:
        os.kill(child, signal.SIGKILL)
        raise AssertionError("the attempt's process outlived its parent")
