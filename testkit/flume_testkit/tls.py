"""Self-signed TLS material for tests of TLS-speaking sources and sinks."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

__all__ = ["OpensslMissingError", "self_signed_certificate"]


class OpensslMissingError(RuntimeError):
    """The ``openssl`` command, which makes the certificate, is not installed."""


def self_signed_certificate(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """Write a self-signed certificate for ``host`` (an IP address) and its key into ``folder``.

    Returns ``(cert.pem, key.pem)``. The certificate names ``host`` both as its common name
    and as an IP subjectAltName, so Python's hostname check accepts it for that address.
    """
    openssl = shutil.which("openssl")
    if openssl is None:
        msg = "the openssl command is missing; install it with: apt-get install -y openssl"
        raise OpensslMissingError(msg)
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", f"/CN={host}", "-addext", f"subjectAltName=IP:{host}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key
