"""A wheel of the installed peakday, made from its installed files, for image builds run from
an installed package (no source checkout to build a wheel from, no build backend needed).

The wheel holds the package's files and its .dist-info (METADATA, WHEEL, entry points), minus
what the installer added (RECORD is written anew, INSTALLER, REQUESTED, direct_url.json are
left out), so pip installs it in the image like the wheel it was installed from.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from email.parser import Parser
from importlib.metadata import Distribution
from pathlib import Path

from peakday.errors import EnvironmentProblem

_INSTALLER_FILES = frozenset({"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"})
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # wheel bytes depend on content only, for the layer cache


def runtime_requirements(distribution: Distribution) -> tuple[str, ...]:
    """The Requires-Dist entries an install without extras needs, in order."""
    return tuple(
        requirement
        for requirement in distribution.requires or ()
        if "extra ==" not in requirement.replace('"', "'")
    )


def repack_installed(distribution: Distribution, out_dir: Path) -> Path:
    """Write `distribution`'s installed files as a wheel into `out_dir`; return its path.

    Raises EnvironmentProblem when the install lists no files (e.g. an editable install).
    """
    name = distribution.metadata["Name"].replace("-", "_")
    version = distribution.version
    dist_info = f"{name}-{version}.dist-info"
    members: list[tuple[str, Path]] = []
    for entry in distribution.files or ():
        parts = entry.parts
        if not parts or parts[0] == ".." or "__pycache__" in parts or entry.suffix == ".pyc":
            continue
        if parts[0] == dist_info and entry.name in _INSTALLER_FILES:
            continue
        if parts[0] != dist_info and parts[0] != name:
            continue
        members.append((entry.as_posix(), Path(str(distribution.locate_file(entry)))))
    if not any(arcname.startswith(f"{name}/") for arcname, _ in members):
        raise EnvironmentProblem(
            f"The installed {name} {version} lists no package files to build an image from "
            "(an editable install?). Hint: run 'peakday images build' from the peakday checkout, "
            "or install peakday from its wheel."
        )
    wheel_text = (Path(str(distribution.locate_file(f"{dist_info}/WHEEL")))).read_text()
    tags = Parser().parsestr(wheel_text).get_all("Tag") or ["py3-none-any"]
    out_dir.mkdir(parents=True, exist_ok=True)
    wheel_path = out_dir / f"{name}-{version}-{tags[0]}.whl"
    record_lines: list[str] = []
    with zipfile.ZipFile(wheel_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for arcname, source in sorted(members):
            data = source.read_bytes()
            _write(archive, arcname, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record_lines.append(f"{arcname},sha256={digest.decode()},{len(data)}")
        record_lines.append(f"{dist_info}/RECORD,,")
        _write(archive, f"{dist_info}/RECORD", ("\n".join(record_lines) + "\n").encode())
    return wheel_path


def _write(archive: zipfile.ZipFile, arcname: str, data: bytes) -> None:
    info = zipfile.ZipInfo(arcname, date_time=_ZIP_EPOCH)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)
