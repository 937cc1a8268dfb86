"""Retries, echo, probe and user identity through the API and CLI, against our SCP."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

import storescu
from storescu.cli.main import main
from storescu.cli.options import Options
from storescu.cli.parser import parse_args
from storescu.cli.verify import user_identity
from storescu.kernel.constants import EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN
from storescu.kernel.errors import UsageError
from storescu.run.options import SendOptions
from storescu.run.probe import probe
from storescu.run.results import Outcome
from storescu.scp import StoreSCP

CT = str(get_testdata_file("CT_small.dcm"))


def _options(*words: str) -> Options:
    parsed = parse_args([*words, "127.0.0.1", "104", CT])
    assert isinstance(parsed, Options)
    return parsed


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (("-usr", "bob"), (1, b"bob", b"")),
        (("-usr", "bob", "-pwd", "pw"), (2, b"bob", b"pw")),
        (("-usr", "bob", "-epw"), (2, b"bob", b"")),
    ],
)
def test_user_identity_types(words: tuple[str, ...], expected: tuple[int, bytes, bytes]) -> None:
    identity = user_identity(_options(*words))
    assert identity is not None
    assert (identity.identity_type, identity.primary, identity.secondary) == expected
    assert not identity.positive_response_requested


def test_user_identity_from_files(tmp_path: Path) -> None:
    for option, kind in (("-kt", 3), ("--saml", 4), ("--jwt", 5)):
        path = tmp_path / f"id{kind}"
        path.write_bytes(b"token-%d" % kind)
        identity = user_identity(_options(option, str(path), "-rsp"))
        assert identity is not None
        assert (identity.identity_type, identity.primary) == (kind, b"token-%d" % kind)
        assert identity.positive_response_requested
    with pytest.raises(UsageError, match="cannot be combined"):
        user_identity(_options("-usr", "a", "--jwt", str(path)))
    with pytest.raises(UsageError, match="-rsp needs a user identity"):
        user_identity(_options("-rsp"))
    assert user_identity(_options()) is None


def test_a700_retried_with_backoff_and_attempts_recorded() -> None:
    with StoreSCP(status=0xA700) as scp:
        slept: list[float] = []
        from storescu.run.sender import Sender

        sender = Sender(
            "127.0.0.1",
            scp.port,
            storescu.AssociationSettings(),
            SendOptions(retries=3, retry_delay=0.5),
        )
        sender._sleep = slept.append  # type: ignore[method-assign]
        from storescu.run.items import inspect_inputs

        result = sender.run(inspect_inputs([CT], "auto"))
    assert slept == [0.5, 1.0, 2.0]
    [row] = result.results
    assert (row.outcome, row.attempts, row.status) == (Outcome.FAILED_STATUS, 4, 0xA700)
    assert len(scp.received) == 4


def test_echo_and_probe_cli(tmp_path: Path) -> None:
    only_implicit = frozenset({IMPLICIT_VR_LITTLE_ENDIAN})
    with StoreSCP(accepted_syntaxes=only_implicit) as scp:
        out, err = io.StringIO(), io.StringIO()
        assert main(["--echo", "127.0.0.1", str(scp.port)], stdout=out, stderr=err) == 0
        assert "Success (0x0000)" in out.getvalue()
        results = probe(
            "127.0.0.1",
            scp.port,
            ["1.2.840.10008.5.1.4.1.1.2", "1.2.3.4"],
            [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN],
        )
        assert [(r.sop_class_uid, r.transfer_syntax, r.accepted) for r in results] == [
            ("1.2.840.10008.5.1.4.1.1.2", EXPLICIT_VR_LITTLE_ENDIAN, False),
            ("1.2.840.10008.5.1.4.1.1.2", IMPLICIT_VR_LITTLE_ENDIAN, True),
            ("1.2.3.4", EXPLICIT_VR_LITTLE_ENDIAN, False),
            ("1.2.3.4", IMPLICIT_VR_LITTLE_ENDIAN, False),
        ]
        assert results[2].reason.startswith("abstract-syntax-not-supported")
        assert scp.received == []


def test_logging_options(tmp_path: Path) -> None:
    with StoreSCP(status=0xA700) as scp:
        # -q: fatal only, so the failure status prints nothing; the exit code tells.
        out, err = io.StringIO(), io.StringIO()
        code = main(["-q", "127.0.0.1", str(scp.port), CT], stdout=out, stderr=err)
        assert code == 0xA7
        assert err.getvalue() == ""
        # -lc: a Python logging.config.fileConfig file.
        log_file = tmp_path / "run.log"
        config = tmp_path / "log.ini"
        config.write_text(
            "[loggers]\nkeys=root,storescu\n[handlers]\nkeys=file\n[formatters]\nkeys=plain\n"
            "[logger_root]\nhandlers=\n[logger_storescu]\nlevel=INFO\nhandlers=file\n"
            "qualname=storescu\npropagate=0\n"
            f"[handler_file]\nclass=FileHandler\nformatter=plain\nargs=({str(log_file)!r},)\n"
            "[formatter_plain]\nformat=%(levelname)s %(message)s\n"
        )
        code = main(["-lc", str(config), "127.0.0.1", str(scp.port), CT], stderr=io.StringIO())
        assert code == 0xA7
    text = log_file.read_text()
    assert "INFO Sending Store Request (MsgID 1, CT)" in text
    assert "ERROR Store Failed" in text
