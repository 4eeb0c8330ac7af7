"""What the test servers share: a Debian package installed on demand, and a free loopback port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess


def apt_install(package: str, missing: str) -> None:
    """``apt-get install package`` (after an update), as root on Debian/Ubuntu; ``missing`` says what is
    not installed, for the error raised where that cannot be done."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError(f"{missing} not installed, and this is not a root shell on Debian/Ubuntu to "
                           f"install it: apt-get install {package}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", package], check=True, env=env)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
