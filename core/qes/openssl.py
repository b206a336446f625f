"""The cryptography of qualified signatures, done by OpenSSL with Debian's GOST engine
(libengine-gost-openssl, installed by .ci/system-deps): the product computes no signature and no
digest of its own. Each function runs one ``openssl`` command on files in a private temporary
folder and answers yes or no; the parsing of what those files say is core.qes.cms (asn1crypto).

The engine is loaded through our own configuration file (openssl-gost.cnf), given to the child
process only, so the Python process's OpenSSL (TLS to PostgreSQL and Redis) is untouched."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from django.conf import settings

CONFIG = Path(__file__).resolve().parent / "openssl-gost.cnf"
TIMEOUT_SECONDS = 30


class OpenSSLUnavailable(RuntimeError):
    """OpenSSL or its GOST engine is missing: a fault of the installation, not of the document."""


def _environment() -> dict[str, str]:
    return {**os.environ, "OPENSSL_CONF": str(CONFIG)}


def run(args: list[str], files: Mapping[str, bytes], *, stdin: bytes = b"") -> tuple[int, bytes]:
    """Run ``openssl <args>`` with ``files`` written to a temporary folder: an argument naming
    one of them ("@name") becomes its path; "@out" names the output file, whose bytes are returned
    with the exit code (empty when the command wrote none)."""
    with tempfile.TemporaryDirectory(prefix="qes-") as folder:
        paths = {name: Path(folder, name) for name in [*files, "out"]}
        for name, content in files.items():
            paths[name].write_bytes(content)
        command = [settings.QES_OPENSSL, *(str(paths[a[1:]]) if a.startswith("@") else a for a in args)]
        try:
            done = subprocess.run(  # noqa: S603 (our arguments; file names are our temporary files)
                command, input=stdin, env=_environment(), capture_output=True, timeout=TIMEOUT_SECONDS, check=False
            )
        except FileNotFoundError as exc:
            raise OpenSSLUnavailable(f"{settings.QES_OPENSSL}: not found") from exc
        except subprocess.TimeoutExpired as exc:
            raise OpenSSLUnavailable(f"openssl {args[0]}: no answer in {TIMEOUT_SECONDS} s") from exc
        out = paths["out"].read_bytes() if paths["out"].exists() else b""
        return done.returncode, out


def gost_available() -> bool:
    """The GOST engine loads (``openssl engine gost -t``): checked once per process and binary."""
    return _gost_available(settings.QES_OPENSSL)


@cache
def _gost_available(binary: str) -> bool:
    try:
        done = subprocess.run(  # noqa: S603 (a fixed command)
            [binary, "engine", "gost", "-t"],
            env=_environment(),
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and b"[ available ]" in done.stdout


def cms_content_verifies(*, signature: bytes, content: bytes, signer: bytes) -> bool:
    """The detached CMS ``signature`` (DER) verifies over exactly ``content`` with the key of
    ``signer`` (its certificate, DER), and its signed attributes bind that certificate (CAdES-BES:
    ESS signing-certificate). The signer's certificate stands as its own anchor here: whom it
    belongs to and who issued it are other checks (core.qes.verifier)."""
    code, _out = run(
        [
            "cms", "-verify", "-binary", "-inform", "DER", "-in", "@sig", "-content", "@content",
            "-certfile", "@signer", "-CAfile", "@signer", "-partial_chain", "-no_check_time",
            "-purpose", "any", "-cades", "-out", "@out",
        ],
        {"sig": signature, "content": content, "signer": _pem(signer)},
    )  # fmt: skip
    return code == 0


def certificate_issued_by(*, certificate: bytes, issuer: bytes) -> bool:
    """``issuer``'s key signed ``certificate`` (both DER). Dates are not looked at here."""
    code, _out = run(
        ["verify", "-no_check_time", "-partial_chain", "-purpose", "any", "-trusted", "@issuer", "@cert"],
        {"issuer": _pem(issuer), "cert": _pem(certificate)},
    )
    return code == 0


def crl_issued_by(*, crl: bytes, issuer: bytes) -> bool:
    """``issuer``'s key signed the revocation list ``crl`` (both DER)."""
    code, _out = run(
        ["crl", "-inform", "DER", "-in", "@crl", "-CAfile", "@issuer", "-noout"],
        {"crl": crl, "issuer": _pem(issuer)},
    )
    return code == 0


def cms_sign(*, content: bytes, certificate: bytes, key: bytes, digest: str) -> bytes:
    """A detached CAdES-BES signature (DER) of ``content`` by the PEM private ``key`` of
    ``certificate`` (DER), with the digest ``digest`` (an OpenSSL name: md_gost12_256, sha256)."""
    code, out = run(
        [
            "cms", "-sign", "-binary", "-cades", "-md", digest, "-in", "@content", "-signer", "@cert",
            "-inkey", "@key", "-outform", "DER", "-out", "@out",
        ],
        {"content": content, "cert": _pem(certificate), "key": key},
    )  # fmt: skip
    if code != 0 or not out:
        raise OpenSSLUnavailable("openssl cms -sign failed")
    return out


def _pem(der: bytes) -> bytes:
    from asn1crypto import pem

    return pem.armor("CERTIFICATE", der)
