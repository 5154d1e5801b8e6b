"""The per-file time limit counts CPU time, so a busy machine stops the same files as an idle one."""

import signal
import subprocess
import sys
import time

import pytest

from reviewer.engine.limits import FileTimeout, soft_limit

pytestmark = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="no interval timers on this platform")


def test_waiting_does_not_count_towards_the_soft_limit():
    started = time.monotonic()
    with soft_limit(0.2):
        time.sleep(0.6)  # wall time, not CPU: the limit must not fire
    assert time.monotonic() - started >= 0.6


def test_working_past_the_soft_limit_raises_file_timeout():
    with pytest.raises(FileTimeout):
        with soft_limit(0.2):
            while True:
                pass


def test_the_soft_limit_is_cleared_afterwards():
    with soft_limit(0.2):
        pass
    deadline = time.process_time() + 0.5
    while time.process_time() < deadline:  # past the old limit's CPU time, nothing fires
        pass


# A regular expression that backtracks for minutes: native code, which no Python signal
# handler interrupts; only the hard limit (RLIMIT_CPU) can end the process.
STUCK_IN_NATIVE_CODE = """
import re, sys
from reviewer.engine.limits import process_deadline, without_core_dumps
without_core_dumps()
with process_deadline(1.0):
    re.match(r"(a+)+$", "a" * 40 + "b")
print("finished")
"""


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_CPU ends the process with SIGXCPU on Linux")
def test_the_hard_limit_ends_a_process_stuck_in_native_code():
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", STUCK_IN_NATIVE_CODE], capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGXCPU, done.stderr
    assert "finished" not in done.stdout
    assert time.monotonic() - started < 30
