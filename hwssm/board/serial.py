"""A serial port on POSIX with the standard library only (termios, os, select).

:class:`SerialPort` opens a tty (a USB-UART such as ``/dev/ttyUSB1``, or a pseudo-terminal in
tests) raw, 8N1, at a standard baud rate, with no flow control. Every read has a deadline:
a port that does not answer raises :class:`~hwssm.errors.HwssmError` (one line, naming the port
and the time-out), never hangs. Windows has no termios: there the error says so.
"""

from __future__ import annotations

import os
import select
import time

from ..errors import HwssmError

__all__ = ["SerialPort", "BAUD_RATES"]

#: Baud rates termios can set (bit/s).
BAUD_RATES = (9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000,
              1152000, 1500000, 2000000, 3000000)


class SerialPort:
    """A raw 8N1 serial line (see the module docstring).

    Parameters
    ----------
    path : str
        The tty device.
    baud : int
        Bit rate, one of :data:`BAUD_RATES`.
    timeout_s : float
        Default deadline of :meth:`read_exact`, seconds.
    """

    def __init__(self, path: str, baud: int = 115_200, timeout_s: float = 2.0):
        try:
            import termios
        except ImportError:
            raise HwssmError("serial ports need POSIX termios (Linux, macOS); not available on this system") from None
        if baud not in BAUD_RATES or not hasattr(termios, f"B{baud}"):
            raise HwssmError(f"--baud {baud} is not a standard rate; use one of: {', '.join(map(str, BAUD_RATES))}")
        if not timeout_s > 0:
            raise HwssmError(f"--timeout must be positive, not {timeout_s}")
        self.path, self.baud, self.timeout_s = str(path), baud, float(timeout_s)
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError as exc:
            raise HwssmError(f"cannot open serial port {self.path}: {exc.strerror or exc}") from None
        try:
            if not os.isatty(self.fd):
                raise HwssmError(f"{self.path} is not a serial port (not a tty)")
            attrs = termios.tcgetattr(self.fd)
            iflag, oflag, cflag, lflag, _, _, cc = attrs
            iflag &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP | termios.INLCR
                       | termios.IGNCR | termios.ICRNL | termios.IXON | termios.IXOFF | termios.IXANY)
            oflag &= ~termios.OPOST
            lflag &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG | termios.IEXTEN)
            cflag &= ~(termios.CSIZE | termios.PARENB | termios.CSTOPB | getattr(termios, "CRTSCTS", 0))
            cflag |= termios.CS8 | termios.CREAD | termios.CLOCAL
            cc[termios.VMIN], cc[termios.VTIME] = 0, 0
            speed = getattr(termios, f"B{baud}")
            termios.tcsetattr(self.fd, termios.TCSANOW, [iflag, oflag, cflag, lflag, speed, speed, cc])
            termios.tcflush(self.fd, termios.TCIOFLUSH)
        except HwssmError:
            os.close(self.fd)
            raise
        except (OSError, termios.error) as exc:
            os.close(self.fd)
            raise HwssmError(f"cannot configure serial port {self.path}: {exc}") from None

    def write(self, data: bytes) -> None:
        """Send ``data`` (all of it, within the time-out)."""
        view = memoryview(data)
        deadline = time.monotonic() + self.timeout_s + len(data) * 10 / self.baud
        while view:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [self.fd], [], left)[1]:
                raise HwssmError(f"serial port {self.path}: timed out sending ({len(view)} bytes left)")
            try:
                n = os.write(self.fd, view)
            except BlockingIOError:
                continue
            except OSError as exc:
                raise HwssmError(f"serial port {self.path}: write failed: {exc.strerror or exc}") from None
            view = view[n:]

    def read_exact(self, n: int, timeout_s: float | None = None) -> bytes:
        """Exactly ``n`` bytes; HwssmError when they have not all come within the time-out (seconds)."""
        deadline = time.monotonic() + (self.timeout_s if timeout_s is None else timeout_s)
        buf = bytearray()
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise HwssmError(f"serial port {self.path}: no answer within {self.timeout_s if timeout_s is None else timeout_s:g} s "
                                 f"({len(buf)} of {n} bytes; is the board programmed and the port and --baud right?)")
            try:
                chunk = os.read(self.fd, n - len(buf))
            except BlockingIOError:
                continue
            except OSError as exc:
                raise HwssmError(f"serial port {self.path}: read failed: {exc.strerror or exc}") from None
            if not chunk:
                time.sleep(0.001)  # a pty whose other side is closed reads empty
            buf += chunk
        return bytes(buf)

    def discard_input(self, quiet_s: float) -> None:
        """Drop received bytes until the line has been idle for ``quiet_s`` seconds."""
        while select.select([self.fd], [], [], quiet_s)[0]:
            try:
                if not os.read(self.fd, 4096):
                    return
            except BlockingIOError:
                continue
            except OSError:
                return

    def close(self) -> None:
        """Close the port (idempotent)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> SerialPort:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
