"""Jars for the Java peers, taken from the pyspark 2.4.8 source distribution.

That sdist (on PyPI) carries Hadoop 2.7.3 with the HDFS server classes, Avro
1.8.2 IPC with Netty 3 and their dependencies. It is downloaded once with pip
into a cache directory and only the jars asked for are kept.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path

__all__ = ["cache_dir", "pyspark_jars"]

PYSPARK_SDIST = "pyspark==2.4.8"
_JAR_PREFIX = "pyspark-2.4.8/deps/jars/"


def cache_dir() -> Path:
    """The testkit's download cache: ``$FLUME_TESTKIT_CACHE`` or ``~/.cache/flume-testkit``."""
    root = os.environ.get("FLUME_TESTKIT_CACHE") or Path.home() / ".cache" / "flume-testkit"
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sdist_path() -> Path:
    dl = cache_dir() / "dl"
    found = sorted(dl.glob("pyspark-2.4.8*.tar.gz"))
    if found:
        return found[0]
    dl.mkdir(parents=True, exist_ok=True)
    # pyspark 2.4.8's setup.py calls pypandoc.convert, which pypandoc >= 1.8 removed; pip builds
    # the sdist's metadata even for a download, so pin the build dependency it pulls in. Older pip
    # applies PIP_CONSTRAINT to build environments; pip >= 25.3 only applies --build-constraint.
    constraints = dl / "pyspark-constraints.txt"
    constraints.write_text("pypandoc<1.8\n")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
           "-d", str(dl), PYSPARK_SDIST]
    if _pip_has_option("--build-constraint"):
        cmd[4:4] = ["--build-constraint", str(constraints)]
    env = {**os.environ, "PIP_CONSTRAINT": str(constraints)}
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return sorted(dl.glob("pyspark-2.4.8*.tar.gz"))[0]


def _pip_has_option(option: str) -> bool:
    """Whether this interpreter's pip knows a command-line option of ``pip download``."""
    help_text = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--help"],
        check=True, capture_output=True, text=True,
    ).stdout
    return option in help_text


def pyspark_jars(names: Iterable[str]) -> dict[str, Path]:
    """Return ``{jar file name: cached path}`` for each named jar of the sdist.

    Names are exact file names under ``deps/jars/`` (``avro-ipc-1.8.2.jar``).
    The download and extraction happen once, under a file lock, so parallel
    test processes share one cache.
    """
    wanted = set(names)
    jar_dir = cache_dir() / "pyspark-2.4.8-jars"
    jar_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir() / ".jars.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        missing = {n for n in wanted if not (jar_dir / n).exists()}
        if missing:
            _extract(_sdist_path(), missing, jar_dir)
    absent = sorted(n for n in wanted if not (jar_dir / n).exists())
    if absent:
        msg = f"jars not found in {PYSPARK_SDIST} sdist: {', '.join(absent)}"
        raise FileNotFoundError(msg)
    return {n: jar_dir / n for n in sorted(wanted)}


def _extract(sdist: Path, names: set[str], target: Path) -> None:
    with tarfile.open(sdist) as tar:
        for member in tar:
            base = member.name.removeprefix(_JAR_PREFIX)
            if member.name.startswith(_JAR_PREFIX) and base in names and member.isfile():
                src = tar.extractfile(member)
                assert src is not None
                with tempfile.NamedTemporaryFile(dir=target, delete=False) as tmp:
                    shutil.copyfileobj(src, tmp)
                os.replace(tmp.name, target / base)
