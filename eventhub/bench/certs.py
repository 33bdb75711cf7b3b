"""A throwaway certificate for the TLS workload, made with the ``openssl`` command."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

#: The name the certificate is for: clients check it.
HOSTNAME = "localhost"


class NoCertificate(Exception):
    """The certificate could not be made (no ``openssl`` command): the workload is not applicable."""


def make(directory: str) -> tuple[str, str]:
    """A self-signed certificate for ``HOSTNAME`` and its key, in ``directory``: (cert file, key file)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise NoCertificate("the TLS workload needs the openssl command to make its certificate")
    cert, key = Path(directory) / "cert.pem", Path(directory) / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-days", "1", "-subj", f"/CN={HOSTNAME}", "-addext", f"subjectAltName=DNS:{HOSTNAME}",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return str(cert), str(key)
