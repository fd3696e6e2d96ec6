"""Moved to :mod:`knowledge.common.hashing`; kept until the files of parallel branches follow."""

from knowledge.common.hashing import (  # noqa: F401
    file_record,
    read_stamp,
    sha256_file,
    stamp_matches,
    write_stamp,
)
