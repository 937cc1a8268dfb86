"""Dataset rewriting options: what storescu changes in every dataset it sends.

DCMTK's ``-up`` and ``+II``/``+IR``/``+IS``/``+IP`` (listed, as in DCMTK, at
the end of "other network options"), then ``-s``, ``--uid-suffix`` and
``--uid-root`` (beyond DCMTK, as dcm4che).
:class:`storescu.dataset.rewrite.RewriteOptions` has the meaning of each.
"""

from __future__ import annotations

from typing import Final

from storescu.cli.spec import INT32_MAX, NETWORK_GROUP, OptionSpec, in_group

_O = OptionSpec

ROWS: Final[tuple[OptionSpec, ...]] = (
    *in_group(
        NETWORK_GROUP,
        "other network options",
        _O("-up", "--uid-padding", "silently fix UIDs padded with spaces", "uid_padding"),
        _O(
            "+II",
            "--invent-instance",
            "invent a new SOP instance UID (and patient,\nstudy, series) for every file sent",
            "invent_instance",
        ),
        _O(
            "+IR",
            "--invent-series",
            "new series UID after N files (default: 100)",
            "invent_series",
            args=("N",),
            arg_help="N: integer >= 1 (implies +II)",
            kind="int",
            minimum=1,
            maximum=INT32_MAX,
        ),
        _O(
            "+IS",
            "--invent-study",
            "new study UID after N series (default: 50)",
            "invent_study",
            args=("N",),
            arg_help="N: integer >= 1 (implies +II)",
            kind="int",
            minimum=1,
            maximum=INT32_MAX,
        ),
        _O(
            "+IP",
            "--invent-patient",
            "new patient ID and name after N studies\n(default: 25)",
            "invent_patient",
            args=("N",),
            arg_help="N: integer >= 1 (implies +II)",
            kind="int",
            minimum=1,
            maximum=INT32_MAX,
        ),
    ),
    *in_group(
        NETWORK_GROUP,
        "dataset rewriting (beyond DCMTK, as dcm4che)",
        _O(
            "-s",
            "--set",
            "set or add an attribute in every dataset\n"
            "sent (repeatable); TAG: keyword, (gggg,eeee),\n"
            "ggggeeee or a path: 00400275[0].00400009",
            "overrides",
            args=("TAG=VALUE",),
            arg_help="TAG=VALUE: values separated by \\",
            kind="override",
            multiple=True,
        ),
        _O(
            None,
            "--uid-suffix",
            "append SUFFIX to the study, series and SOP\ninstance UIDs",
            "uid_suffix",
            args=("SUFFIX",),
            arg_help="SUFFIX: digits and dots, e.g. .1",
            kind="uid-suffix",
        ),
        _O(
            None,
            "--uid-root",
            "root of invented UIDs (default: pydicom's\n1.2.826.0.1.3680043.8.498.)",
            "uid_root",
            args=("ROOT",),
            arg_help="ROOT: UID prefix, at most 43 characters",
            kind="uid-root",
        ),
    ),
)
