"""axe-core for the browser tests: the npm package at a pinned version, checked against its
pinned checksum, fetched once into a cache with npm's own client.

    uv run python -m tests.web.axe        # fetch it now (CI does, before the tests)
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

AXE_VERSION = "4.14.1"
#: The npm registry's ``dist.integrity`` of axe-core@4.14.1's tarball (SHA-512).
AXE_INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="  # noqa: E501  # one checksum
CACHE = Path(__file__).parent / ".cache" / f"axe-core-{AXE_VERSION}"
AXE_SCRIPT = CACHE / "axe.min.js"


class AxeUnavailable(RuntimeError):
    """axe-core is not cached and cannot be fetched (no npm, no registry)."""


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def axe_script() -> Path:
    """The path of axe.min.js, fetching and checking the package if it is not cached yet."""
    if AXE_SCRIPT.is_file():
        return AXE_SCRIPT
    npm = shutil.which("npm")
    if npm is None:
        raise AxeUnavailable(
            "npm is not installed (apt-get install npm), so axe-core cannot be fetched"
        )
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(
            [npm, "pack", f"axe-core@{AXE_VERSION}", "--silent", "--pack-destination", scratch],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        tarballs = list(Path(scratch).glob("axe-core-*.tgz"))
        if done.returncode != 0 or len(tarballs) != 1:
            raise AxeUnavailable(f"npm pack axe-core@{AXE_VERSION} failed: {done.stderr.strip()}")
        data = tarballs[0].read_bytes()
        if _integrity(data) != AXE_INTEGRITY:
            raise AxeUnavailable(
                f"axe-core@{AXE_VERSION}'s tarball does not match its pinned checksum; refusing it"
            )
        with tarfile.open(tarballs[0]) as archive:
            member = archive.extractfile("package/axe.min.js")
            if member is None:
                raise AxeUnavailable("the axe-core package has no axe.min.js")
            script = member.read()
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = AXE_SCRIPT.with_suffix(".partial")
    partial.write_bytes(script)
    partial.replace(AXE_SCRIPT)
    return AXE_SCRIPT


if __name__ == "__main__":
    try:
        print(axe_script())
    except AxeUnavailable as error:
        print(error, file=sys.stderr)
        sys.exit(1)
