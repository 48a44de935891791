"""Java sources of the testkit's real peers, and a cached ``javac`` build of them.

The ``.java`` files next to this module are the testkit's own small programs
(``SeqFileDump``, ``FlumeAvroPeer``). :func:`compile_java` builds one of them
against a list of jars once and caches the classes under the testkit cache,
keyed by a hash of the source text and the jar names, so a changed source is
rebuilt and an unchanged one is reused by every later test session.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from flume_testkit.servers._jars import cache_dir

__all__ = ["JavaBuildError", "compile_java", "java_tool", "source_path"]

_HERE = Path(__file__).resolve().parent


class JavaBuildError(RuntimeError):
    """``javac`` rejected one of the testkit's Java sources; the message has its output."""


def java_tool(name: str = "java") -> str | None:
    """Return the path of ``java`` or ``javac`` (``$JAVA_HOME/bin`` first), or None."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / name).is_file():
        return str(Path(home) / "bin" / name)
    return shutil.which(name)


def source_path(class_name: str) -> Path:
    """Return the path of the testkit's ``<class_name>.java``."""
    path = _HERE / f"{class_name}.java"
    if not path.is_file():
        msg = f"Java source {path} not found; expected one of {sorted(_sources())}"
        raise FileNotFoundError(msg)
    return path


def _sources() -> list[str]:
    return [p.stem for p in _HERE.glob("*.java")]


def _build_key(source: Path, classpath: Sequence[Path]) -> str:
    digest = hashlib.sha256(source.read_bytes())
    for jar in classpath:
        digest.update(b"\0" + Path(jar).name.encode())
    return digest.hexdigest()[:16]


def compile_java(class_name: str, classpath: Sequence[Path]) -> Path:
    """Compile ``<class_name>.java`` against ``classpath``; return the classes directory.

    The build is cached and guarded by a file lock, so concurrent test
    processes compile at most once.

    Raises:
        JavaBuildError: ``javac`` is missing or the source does not compile.
    """
    source = source_path(class_name)
    target = cache_dir() / "java-classes" / f"{class_name}-{_build_key(source, classpath)}"
    if (target / f"{class_name}.class").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / f"{class_name}.class").is_file():
            _javac(source, classpath, target)
    return target


def _javac(source: Path, classpath: Sequence[Path], target: Path) -> None:
    javac = java_tool("javac")
    if javac is None:
        msg = "javac not found: install a JDK (apt-get install -y openjdk-17-jdk-headless)"
        raise JavaBuildError(msg)
    scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=".build-"))
    cmd = [javac, "-nowarn", "-encoding", "UTF-8", "-d", str(scratch),
           "-cp", os.pathsep.join(str(p) for p in classpath), str(source)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        msg = f"javac failed for {source.name} (rc={done.returncode}):\n{done.stderr[-4000:]}"
        raise JavaBuildError(msg)
    os.replace(scratch, target)
