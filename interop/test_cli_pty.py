"""The `refunds` binary in a real terminal (a pseudo-terminal, as a shell gives it): the progress bar
is drawn only there, and cleared when the export ends or is interrupted with Ctrl-C (the terminal's
own ^C, sent through the pty as a person types it), which also removes the `.partial` file and exits
130. The pipe and signal behaviours without a terminal are in cli/tests/terminal.rs.
"""
import fcntl
import os
import pty
import select
import struct
import tempfile
import termios
import time

ROWS, COLS = 30, 120


def spawn(refunds_bin, args, cwd):
    """Starts the binary on a new pty (its controlling terminal); returns (pid, master fd)."""
    pid, master = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        env = {k: v for k, v in os.environ.items() if k != "REFUNDS_PROVIDERS"}
        env["TERM"] = "xterm-256color"
        os.execve(refunds_bin, [refunds_bin, *args], env)
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    return pid, master


def read_until(master, done, limit=30.0):
    """Everything the terminal shows until `done(text)` or EOF (the child closed the pty)."""
    seen = b""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        ready, _, _ = select.select([master], [], [], 0.1)
        if not ready:
            if done(seen):
                return seen
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child is gone
            return seen
        if not chunk:
            return seen
        seen += chunk
        if done(seen):
            return seen
    raise AssertionError(f"timed out; the terminal showed {seen[-2000:]!r}")


def exit_code(pid):
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_the_progress_bar_is_drawn_on_a_terminal_and_cleared_at_the_end(refunds_bin):
    work = tempfile.mkdtemp()
    out = os.path.join(work, "refunds.csv")
    pid, master = spawn(refunds_bin, ["--sandbox", "export", "--format", "csv", "--output", out], work)
    shown = read_until(master, lambda s: False)
    assert exit_code(pid) == 0, shown
    text = shown.decode("utf-8", "replace")
    # indicatif draws the bar with its count, then erases the line (ESC [2K) when it finishes.
    assert " refunds (" in text, text
    assert "\x1b[2K" in text, text
    last_bar = text.rfind(" refunds (")
    assert text.rfind("\x1b[2K") > last_bar, "the bar was left on the screen"
    assert "10 refunds written to" in text, text
    with open(out) as fh:
        assert len(fh.read().splitlines()) == 11


def test_ctrl_c_in_a_terminal_clears_the_bar_removes_the_partial_file_and_exits_130(refunds_bin):
    work = tempfile.mkdtemp()
    out = os.path.join(work, "refunds.csv")
    # Every request of every sandbox is held 1.5 s: the export is still running when ^C comes.
    args = ["--sandbox", "--sandbox-fault", "delay=1500:50", "export", "--format", "csv", "--output", out]
    pid, master = spawn(refunds_bin, args, work)
    shown = read_until(master, lambda s: b" refunds (" in s)
    assert os.path.exists(out + ".partial"), os.listdir(work)
    os.write(master, b"\x03")  # the terminal's interrupt character: SIGINT to the foreground job
    shown += read_until(master, lambda s: False)
    code = exit_code(pid)
    text = shown.decode("utf-8", "replace")
    assert code == 130, text
    assert not os.path.exists(out + ".partial"), os.listdir(work)
    assert not os.path.exists(out), os.listdir(work)
    interrupted = text.rfind("^C")
    assert text.rfind("\x1b[2K") > max(interrupted, text.rfind(" refunds (")) - 1, text
    assert "refunds: interrupted" in text, text
