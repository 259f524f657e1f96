"""Whether one store location lies within another, however each is spelled."""

import posixpath
from pathlib import Path, PurePosixPath

# Schemes that name the same place: a local file, or an S3 object (Hadoop's s3a/s3n spellings).
SAME_PLACE = {"file": "local", "local": "local", "s3": "s3", "s3a": "s3", "s3n": "s3"}


def _location(text: str) -> tuple[str, PurePosixPath]:
    """(where, path) with the scheme's spelling, double slashes, '.' and '..' normalised away."""
    scheme, separator, rest = text.strip().partition("://")
    if not separator:
        scheme, rest = "local", text.strip()
    where = SAME_PLACE.get(scheme.lower(), scheme.lower())
    if where == "local":
        return where, PurePosixPath(Path(rest).expanduser().resolve())
    return where, PurePosixPath(posixpath.normpath("/" + rest))


def is_within(path: str, folder: str) -> bool:
    (path_place, inner), (folder_place, outer) = _location(path), _location(folder)
    return path_place == folder_place and inner.is_relative_to(outer)
