"""Command-line options for transfer syntaxes -> library objects.

``-xf`` (the profile is read here, so a bad file is a usage error before
anything is sent), ``+cl``, ``-u``, ``+dls``/``+dly``/``-dn`` and
``--decompress-limit`` become a :class:`~storescu.dataset.conversion.Conversion`
and a :class:`~storescu.run.asconfig.Profile`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storescu.dataset.conversion import DEFAULT_DEFLATE_LEVEL, DEFAULT_MAX_DECODED, Conversion

if TYPE_CHECKING:
    from storescu.cli.options import Options
    from storescu.run.asconfig import Profile

_MIB = 1024 * 1024


def transfer_options(options: Options) -> tuple[Conversion, Profile | None]:
    """The run's conversion settings and ``-xf`` profile.

    Raises
    ------
    UsageError
        The ``-xf`` file cannot be read or is wrong (``file:line: ...``).
    """
    profile = None
    if options.config_file is not None:
        from storescu.run.asconfig import load_profile

        path, name = options.config_file
        profile = load_profile(path, name)
    limit = options.decompress_limit
    conversion = Conversion(
        decompress=options.decompress,
        deflate_level=(
            DEFAULT_DEFLATE_LEVEL
            if options.compression_level is None
            else options.compression_level
        ),
        new_vrs=options.new_vrs,
        max_decoded=DEFAULT_MAX_DECODED if limit is None else limit * _MIB,
    )
    return conversion, profile
