"""Command-line parsing (storescu.cli.parser, its table), in-process: no sockets, no files sent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from storescu import __version__
from storescu.cli.exitcodes import EXIT_CODES_TEXT, ExitCode, exit_code_for_status
from storescu.cli.helptext import help_text, version_text
from storescu.cli.options import InfoRequest, Options
from storescu.cli.parser import build_parser, parse_args
from storescu.cli.scanner import split_command_file
from storescu.cli.spec import OptionSpec
from storescu.cli.table import OPTION_TABLE
from storescu.cli.values import LOG_LEVELS
from storescu.dataset.rewrite import parse_override
from storescu.kernel.errors import UsageError

BASE = ["pacs", "104", "a.dcm"]
MANUAL = Path("/work/shared/seed/storescu-manual.txt")

# The options of the seed manual (USAGE section), as (short, long). Kept here so
# the test runs where the manual is not available; test_manual_list_is_current
# checks the copy against the manual whenever it is.
MANUAL_OPTIONS: list[tuple[str | None, str]] = [
    ("-h", "--help"), ("-v", "--verbose"), ("+v", "--verbose-pc"), ("-d", "--debug"),
    ("-aet", "--aetitle"), ("-aec", "--call"), ("-x=", "--propose-uncompr"),
    ("-xe", "--propose-little"), ("-xb", "--propose-big"), ("-xi", "--propose-implicit"),
    ("-xs", "--propose-lossless"), ("-xy", "--propose-jpeg8"), ("-xx", "--propose-jpeg12"),
    ("-xr", "--propose-rle"), ("-xd", "--propose-deflated"), ("-R", "--required"),
    ("+C", "--combine"), ("+u", "--enable-new-vr"), ("-u", "--disable-new-vr"),
    ("+cl", "--compression-level"), ("-pdu", "--max-pdu"), (None, "--max-send-pdu"),
    (None, "--repeat"), (None, "--abort"), (None, "--no-halt"), ("+II", "--invent-instance"),
    ("+IR", "--invent-series"), ("+IS", "--invent-study"), ("+IP", "--invent-patient"),
    ("-tls", "--disable-tls"), ("+tls", "--enable-tls"), ("+tla", "--anonymous-tls"),
    ("+ps", "--std-passwd"), ("+pw", "--use-passwd"), ("-pw", "--null-passwd"),
    ("-pem", "--pem-keys"), ("-der", "--der-keys"), ("+cf", "--add-cert-file"),
    ("+cd", "--add-cert-dir"), ("+cs", "--cipher"), ("+dp", "--dhparam"), ("+rs", "--seed"),
    ("+ws", "--write-seed"), ("+wf", "--write-seed-file"), ("-rc", "--require-peer-cert"),
    ("-vc", "--verify-peer-cert"), ("-ic", "--ignore-peer-cert"),
]  # fmt: skip

# Options DCMTK 3.6.7's --help has and the manual lacks (read from /usr/bin/storescu).
DCMTK_367_EXTRA: list[tuple[str | None, str]] = [
    (None, "--version"), (None, "--arguments"), ("-q", "--quiet"), ("-ll", "--log-level"),
    ("-lc", "--log-config"), ("+f", "--read-file"), ("+fo", "--read-file-only"),
    ("-f", "--read-dataset"), ("+sd", "--scan-directories"), ("+sp", "--scan-pattern"),
    ("-r", "--no-recurse"), ("+r", "--recurse"), ("-rn", "--no-rename"), ("+rn", "--rename"),
    ("-xf", "--config-file"), ("-xv", "--propose-j2k-lossless"), ("-xw", "--propose-j2k-lossy"),
    ("-xt", "--propose-jls-lossless"), ("-xu", "--propose-jls-lossy"), ("-xm", "--propose-mpeg2"),
    ("-xh", "--propose-mpeg2-high"), ("-xn", "--propose-mpeg4"), ("-xl", "--propose-mpeg4-bd"),
    ("-x2", "--propose-mpeg4-2-2d"), ("-x3", "--propose-mpeg4-2-3d"),
    ("-xo", "--propose-mpeg4-2-st"), ("-x4", "--propose-hevc"), ("-x5", "--propose-hevc10"),
    ("-usr", "--user"), ("-pwd", "--password"), ("-epw", "--empty-password"),
    ("-kt", "--kerberos"), (None, "--saml"), (None, "--jwt"), ("-rsp", "--pos-response"),
    ("-to", "--timeout"), ("-ts", "--socket-timeout"), ("-ta", "--acse-timeout"),
    ("-td", "--dimse-timeout"), ("-nh", "--no-halt"), ("-up", "--uid-padding"),
    ("+crl", "--add-crl-file"), ("+crv", "--enable-crl-vfy"), ("+cra", "--enable-crl-all"),
    ("+py", "--profile-bcp195-nd"), ("+px", "--profile-bcp195"), ("+pz", "--profile-bcp195-ex"),
    ("+pa", "--profile-aes"), ("+pn", "--profile-null"), ("+cc", "--list-ciphers"),
]  # fmt: skip

# DCMTK 3.7 additions listed in BEHAVIOUR.md section 1 (+pb is 3.6.7 without 3DES).
DCMTK_37_EXTRA: list[tuple[str | None, str]] = [
    ("-i4", "--ipv4"), ("-i6", "--ipv6"), ("-i0", "--ip-auto"), ("+pg", "--profile-8996"),
    ("+pm", "--profile-8996-mod"), ("+pb", "--profile-basic"), ("+ph", "--list-profiles"),
    (None, "--no-sni"), (None, "--request-sni"),
]  # fmt: skip

# long -> short, the newest DCMTK's spelling winning (3.6.7 added -nh to --no-halt).
NEWEST_SPELLINGS: dict[str, str | None] = {
    long: short for short, long in MANUAL_OPTIONS + DCMTK_367_EXTRA + DCMTK_37_EXTRA
}
assert NEWEST_SPELLINGS["--no-halt"] == "-nh"

# DCMTK's arity for every option that takes arguments; all others take none.
ARITY = {
    "--log-level": 1, "--log-config": 1, "--scan-pattern": 1, "--aetitle": 1, "--call": 1,
    "--config-file": 2, "--compression-level": 1, "--user": 1, "--password": 1,
    "--kerberos": 1, "--saml": 1, "--jwt": 1, "--timeout": 1, "--socket-timeout": 1,
    "--acse-timeout": 1, "--dimse-timeout": 1, "--max-pdu": 1, "--max-send-pdu": 1,
    "--repeat": 1, "--invent-series": 1, "--invent-study": 1, "--invent-patient": 1,
    "--enable-tls": 2, "--use-passwd": 1, "--add-cert-file": 1, "--add-cert-dir": 1,
    "--add-crl-file": 1, "--cipher": 1, "--dhparam": 1, "--seed": 1, "--write-seed-file": 1,
    "--request-sni": 1,
}  # fmt: skip

# Options of our own, beyond every DCMTK storescu (name -> arity). Each must not
# clash with a DCMTK spelling; later features add theirs here.
OUR_OWN_ARITY: dict[str, int] = {
    "--completion": 1,
    "--commit": 0,
    "--commit-check": 1,
    "--commit-port": 1,
    "--commit-timeout": 1,
    "--commit-batch": 1,
    # the asynchronous operations window (PS3.7 D.3.3.3), in dcm4che's spelling
    "--max-ops-invoked": 1,
    "--max-ops-performed": 1,
    "--retry": 1,
    "--retry-delay": 1,
    "--resend-unknown": 0,
    "--parallel": 1,
    "--dask": 1,
    "--dask-partition": 1,
    "--dask-associations": 1,
    "--echo": 0,
    "--probe": 0,
    "--check-hostname": 0,
    "--priority": 1,
    # lossless compression while sending (issue 18)
    "--compress": 1,
    "--no-verify-compression": 0,
    # dataset rewriting (dcm4che's -s and --uid-suffix; DCMTK storescu has no -s)
    "--set": 1,
    "--uid-suffix": 1,
    "--uid-root": 1,
    # transfer syntaxes: HTJ2K, proposing the files' syntaxes/classes, decompression
    "--propose-ht-lossless": 0,
    "--propose-ht-rpcl": 0,
    "--propose-ht-lossy": 0,
    "--propose-file-syntax": 0,
    "--no-file-syntax": 0,
    "--propose-file-classes": 0,
    "--no-file-classes": 0,
    "--decompress-lossless": 0,
    "--decompress-lossy": 0,
    "--decompress-never": 0,
    "--decompress-limit": 1,
    # inputs, report, resuming, progress
    "--file-list": 1,
    "--skip-sent": 1,
    "--report": 1,
    "--progress": 0,
    "--no-progress": 0,
}

# The brief's pending list, by topic (none left).
PENDING: dict[str, str] = {}


def parse(*words: str) -> Options:
    result = parse_args([*words, *BASE])
    assert isinstance(result, Options)
    return result


def usage_error(*argv: str) -> str:
    with pytest.raises(UsageError) as info:
        parse_args(list(argv))
    return str(info.value)


def spec(name: str) -> OptionSpec:
    return next(r for r in OPTION_TABLE if name in r.spellings)


# ----------------------------------------------------------------------- basics


def test_defaults() -> None:
    assert parse_args(BASE) == Options(
        peer="pacs",
        port=104,
        files=("a.dcm",),
        log_level="warn",
        log_config=None,
        show_contexts=False,
        calling_aet="STORESCU",
        called_aet="ANY-SCP",
        propose="uncompr",
        required_only=False,
        combine=False,
        max_pdu=16384,
        max_send_pdu=None,
        repeat=1,
        abort=False,
        halt=True,
        read_mode="auto",
        connect_timeout=None,
        socket_timeout=60.0,
        acse_timeout=30.0,
        dimse_timeout=None,
        args_expanded=tuple(BASE),
        print_arguments=False,
        ip_version="ipv4",
        user=None,
        retries=0,
        echo=False,
        probe=False,
    )


def test_several_files_keep_their_order() -> None:
    options = parse_args(["pacs", "104", "z.dcm", "a.dcm", "m.dcm"])
    assert isinstance(options, Options)
    assert options.files == ("z.dcm", "a.dcm", "m.dcm")


# Every supported option with a value: (argv words, the fields they must set).
SUPPORTED_CASES: dict[str, tuple[list[str], dict[str, object]]] = {
    "--arguments": ([], {"print_arguments": True}),
    "--quiet": ([], {"log_level": "fatal"}),
    "--verbose": ([], {"log_level": "info"}),
    "--debug": ([], {"log_level": "debug"}),
    "--log-level": (["trace"], {"log_level": "trace"}),
    "--log-config": (["log.cfg"], {"log_config": "log.cfg"}),
    "--verbose-pc": ([], {"show_contexts": True, "log_level": "info"}),
    "--read-file": ([], {"read_mode": "auto"}),
    "--read-file-only": ([], {"read_mode": "fileformat"}),
    "--read-dataset": ([], {"read_mode": "dataset"}),
    "--aetitle": (["MYSCU"], {"calling_aet": "MYSCU"}),
    "--call": (["ARCHIVE"], {"called_aet": "ARCHIVE"}),
    "--propose-uncompr": ([], {"propose": "uncompr"}),
    "--propose-little": ([], {"propose": "little"}),
    "--propose-big": ([], {"propose": "big"}),
    "--propose-implicit": ([], {"propose": "implicit"}),
    "--required": ([], {"required_only": True}),
    "--combine": ([], {"combine": True}),
    "--enable-new-vr": ([], {}),
    "--disable-new-vr": ([], {"new_vrs": False}),
    "--propose-lossless": ([], {"propose": "lossless"}),
    "--propose-jpeg8": ([], {"propose": "jpeg8"}),
    "--propose-jpeg12": ([], {"propose": "jpeg12"}),
    "--propose-j2k-lossless": ([], {"propose": "j2k-lossless"}),
    "--propose-j2k-lossy": ([], {"propose": "j2k-lossy"}),
    "--propose-jls-lossless": ([], {"propose": "jls-lossless"}),
    "--propose-jls-lossy": ([], {"propose": "jls-lossy"}),
    "--propose-mpeg2": ([], {"propose": "mpeg2"}),
    "--propose-mpeg2-high": ([], {"propose": "mpeg2-high"}),
    "--propose-mpeg4": ([], {"propose": "mpeg4"}),
    "--propose-mpeg4-bd": ([], {"propose": "mpeg4-bd"}),
    "--propose-mpeg4-2-2d": ([], {"propose": "mpeg4-2-2d"}),
    "--propose-mpeg4-2-3d": ([], {"propose": "mpeg4-2-3d"}),
    "--propose-mpeg4-2-st": ([], {"propose": "mpeg4-2-st"}),
    "--propose-hevc": ([], {"propose": "hevc"}),
    "--propose-hevc10": ([], {"propose": "hevc10"}),
    "--propose-rle": ([], {"propose": "rle"}),
    "--propose-deflated": ([], {"propose": "deflated"}),
    "--propose-ht-lossless": ([], {"propose": "ht-lossless"}),
    "--propose-ht-rpcl": ([], {"propose": "ht-rpcl"}),
    "--propose-ht-lossy": ([], {"propose": "ht-lossy"}),
    "--compression-level": (["9", "-xd"], {"compression_level": 9, "propose": "deflated"}),
    "--config-file": (["s.cfg", "Default"], {"config_file": ("s.cfg", "Default")}),
    "--propose-file-syntax": ([], {"propose_file_syntaxes": True}),
    "--no-file-syntax": ([], {"propose_file_syntaxes": False}),
    "--propose-file-classes": ([], {"propose_file_classes": True}),
    "--no-file-classes": ([], {"propose_file_classes": False}),
    "--decompress-lossless": ([], {"decompress": "lossless"}),
    "--decompress-lossy": ([], {"decompress": "lossy"}),
    "--decompress-never": ([], {"decompress": "never"}),
    "--decompress-limit": (["64"], {"decompress_limit": 64}),
    "--priority": (["high"], {"priority": "high"}),
    "--compress": (["jpeg-ls"], {"compress": "jpeg-ls"}),
    "--no-verify-compression": (["--compress", "rle"], {"verify_compression": False,
                                                        "compress": "rle"}),
    "--timeout": (["5"], {"connect_timeout": 5.0}),
    "--socket-timeout": (["7"], {"socket_timeout": 7.0}),
    "--acse-timeout": (["9"], {"acse_timeout": 9.0}),
    "--dimse-timeout": (["11"], {"dimse_timeout": 11.0}),
    "--max-pdu": (["32768"], {"max_pdu": 32768}),
    "--max-send-pdu": (["8192"], {"max_send_pdu": 8192}),
    "--repeat": (["3"], {"repeat": 3}),
    "--abort": ([], {"abort": True}),
    "--no-halt": ([], {"halt": False}),
    "--disable-tls": ([], {}),
    # TLS options need +tls or +tla (as in DCMTK): the case's words add +tla.
    "--enable-tls": (["k.pem", "c.pem"], {"tls": "auth", "tls_key_file": "k.pem",
                                          "tls_cert_file": "c.pem"}),
    "--anonymous-tls": ([], {"tls": "anonymous"}),
    "--std-passwd": (["+tls", "k", "c"], {"tls": "auth", "tls_key_file": "k",
                                          "tls_cert_file": "c", "tls_password": None}),
    "--use-passwd": (["pw", "+tls", "k", "c"], {"tls": "auth", "tls_key_file": "k",
                                                "tls_cert_file": "c", "tls_password": "pw"}),
    "--null-passwd": (["+tls", "k", "c"], {"tls": "auth", "tls_key_file": "k",
                                           "tls_cert_file": "c", "tls_password": ""}),
    "--pem-keys": (["+tla"], {"tls": "anonymous", "tls_der": False}),
    "--der-keys": (["+tla"], {"tls": "anonymous", "tls_der": True}),
    "--add-cert-file": (["ca.pem", "+tla"], {"tls": "anonymous", "tls_ca_files": ("ca.pem",)}),
    "--add-cert-dir": (["cadir", "+tla"], {"tls": "anonymous", "tls_ca_dirs": ("cadir",)}),
    "--add-crl-file": (["a.crl", "+tla"], {"tls": "anonymous", "tls_crl_files": ("a.crl",)}),
    "--enable-crl-vfy": (["+tla"], {"tls": "anonymous", "tls_crl": "leaf"}),
    "--enable-crl-all": (["+tla"], {"tls": "anonymous", "tls_crl": "all"}),
    "--profile-8996": (["+tla"], {"tls": "anonymous", "tls_profile": "8996"}),
    "--profile-8996-mod": (["+tla"], {"tls": "anonymous", "tls_profile": "8996-mod"}),
    "--profile-bcp195-nd": (["+tla"], {"tls": "anonymous", "tls_profile": "bcp195-nd"}),
    "--profile-bcp195": (["+tla"], {"tls": "anonymous", "tls_profile": "bcp195"}),
    "--profile-bcp195-ex": (["+tla"], {"tls": "anonymous", "tls_profile": "bcp195-ex"}),
    "--profile-basic": (["+tla"], {"tls": "anonymous", "tls_profile": "basic"}),
    "--profile-aes": (["+tla"], {"tls": "anonymous", "tls_profile": "aes"}),
    "--profile-null": (["+tla"], {"tls": "anonymous", "tls_profile": "null"}),
    "--cipher": (["TLS_RSA_WITH_AES_128_CBC_SHA", "+tla"],
                 {"tls": "anonymous", "tls_cipher_suites": ("TLS_RSA_WITH_AES_128_CBC_SHA",)}),
    "--dhparam": (["dh.pem", "+tla"], {"tls": "anonymous", "tls_dhparam": "dh.pem"}),
    "--no-sni": (["+tla"], {"tls": "anonymous", "tls_sni": None}),
    "--request-sni": (["pacs.example", "+tla"], {"tls": "anonymous", "tls_sni": "pacs.example"}),
    "--seed": (["seed.bin", "+tla"], {"tls": "anonymous", "tls_seed_file": "seed.bin"}),
    "--write-seed": (["+rs", "s.bin", "+tla"], {"tls": "anonymous", "tls_seed_file": "s.bin",
                                               "tls_write_seed_file": "s.bin"}),
    "--write-seed-file": (["new.bin", "+rs", "s.bin", "+tla"],
                          {"tls": "anonymous", "tls_seed_file": "s.bin",
                           "tls_write_seed_file": "new.bin"}),
    "--require-peer-cert": (["+tla"], {"tls": "anonymous", "tls_verify_peer": "require"}),
    "--verify-peer-cert": (["+tla"], {"tls": "anonymous", "tls_verify_peer": "verify"}),
    "--ignore-peer-cert": (["+tla"], {"tls": "anonymous", "tls_verify_peer": "ignore"}),
    "--check-hostname": (["+tla"], {"tls": "anonymous", "tls_check_hostname": True}),
    "--ipv4": ([], {"ip_version": "ipv4"}),
    "--ipv6": ([], {"ip_version": "ipv6"}),
    "--ip-auto": ([], {"ip_version": "auto"}),
    "--user": (["alice"], {"user": "alice"}),
    "--password": (["secret"], {"password": "secret"}),
    "--empty-password": ([], {"empty_password": True}),
    "--kerberos": (["ticket.bin"], {"kerberos_file": "ticket.bin"}),
    "--saml": (["assertion.xml"], {"saml_file": "assertion.xml"}),
    "--jwt": (["token.jwt"], {"jwt_file": "token.jwt"}),
    "--pos-response": ([], {"positive_response": True}),
    "--max-ops-invoked": (["16"], {"max_ops_invoked": 16}),
    "--max-ops-performed": (["0"], {"max_ops_performed": 0}),
    "--retry": (["3"], {"retries": 3}),
    "--retry-delay": (["0.5"], {"retry_delay": 0.5}),
    "--resend-unknown": ([], {"resend_unknown": True}),
    "--parallel": (["4"], {"parallel": 4}),
    "--dask": (["local:2"], {"dask": "local:2"}),
    "--dask-partition": (["50", "--dask", "local:1"], {"dask_partition": 50, "dask": "local:1"}),
    "--dask-associations": (
        ["8", "--dask", "tcp://h:8786"],
        {"dask_associations": 8, "dask": "tcp://h:8786"},
    ),
    "--echo": ([], {"echo": True}),
    "--probe": ([], {"probe": True}),
    "--commit": ([], {"commit": True}),
    "--commit-check": (["run1.jsonl"], {"commit_check": "run1.jsonl"}),
    "--commit-port": (["11113", "--commit"], {"commit_port": 11113, "commit": True}),
    "--commit-timeout": (["5", "--commit"], {"commit_timeout": 5.0, "commit": True}),
    "--commit-batch": (["10", "--commit"], {"commit_batch": 10, "commit": True}),
    "--uid-padding": ([], {"uid_padding": True}),
    "--invent-instance": ([], {"invent_instance": True}),
    "--invent-series": (["3"], {"invent_series": 3}),
    "--invent-study": (["2"], {"invent_study": 2}),
    "--invent-patient": (["1"], {"invent_patient": 1}),
    "--set": (["PatientName=ANON"], {"overrides": (parse_override("PatientName=ANON"),)}),
    "--uid-suffix": ([".1"], {"uid_suffix": ".1"}),
    "--uid-root": (["1.2.3"], {"uid_root": "1.2.3."}),
    "--scan-directories": ([], {"scan_directories": True}),
    "--scan-pattern": (["*.dcm", "+sd"], {"scan_pattern": "*.dcm", "scan_directories": True}),
    "--recurse": (["+sd"], {"recurse": True, "scan_directories": True}),
    "--no-recurse": ([], {"recurse": False}),
    "--rename": ([], {"rename": True}),
    "--no-rename": ([], {"rename": False}),
    "--file-list": (["list.txt"], {"file_list": "list.txt"}),
    "--skip-sent": (["run1.jsonl"], {"skip_sent": ("run1.jsonl",)}),
    "--report": (["run2.csv"], {"report": "run2.csv"}),
    "--progress": ([], {"progress": "on"}),
    "--no-progress": ([], {"progress": "off"}),
}


def test_every_supported_option_has_a_case() -> None:
    supported = {r.long for r in OPTION_TABLE if r.pending_topic is None}
    info = {"--help", "--version", "--completion", "--list-profiles", "--list-ciphers"}
    assert supported - info == set(SUPPORTED_CASES)


@pytest.mark.parametrize("long", sorted(SUPPORTED_CASES))
def test_supported_option_and_its_alias(long: str) -> None:
    values, expected = SUPPORTED_CASES[long]
    default = parse()
    for spelling in spec(long).spellings:
        options = parse(spelling, *values)
        changed = {
            name: getattr(options, name)
            for name in Options.fields()
            if getattr(options, name) != getattr(default, name) and name != "args_expanded"
        }
        want = {k: v for k, v in expected.items() if getattr(default, k) != v}
        assert changed == want, spelling
        assert options.args_expanded == (spelling, *values, *BASE)


def test_every_short_option_has_a_long_alias_and_spellings_are_unique() -> None:
    spellings = [s for r in OPTION_TABLE for s in r.spellings]
    assert len(spellings) == len(set(spellings))
    assert all(r.long.startswith("--") for r in OPTION_TABLE)


def test_table_matches_dcmtk_spellings_and_arity() -> None:
    by_long = {r.long: r for r in OPTION_TABLE}
    for long, short in NEWEST_SPELLINGS.items():
        assert long in by_long, long
        assert by_long[long].short == short, long
    for row in OPTION_TABLE:
        assert len(row.args) == ARITY.get(row.long, OUR_OWN_ARITY.get(row.long, 0)), row.long
    # Nothing left out, and nothing invented beyond our documented own options.
    assert set(by_long) == set(NEWEST_SPELLINGS) | set(OUR_OWN_ARITY)


def test_supported_destinations_are_options_fields() -> None:
    fields = set(Options.fields())
    for row in OPTION_TABLE:
        if row.pending_topic is None and row.dest is not None:
            assert row.dest in fields, row.long


def test_groups_are_contiguous() -> None:
    seen: list[tuple[str, str]] = []
    for row in OPTION_TABLE:
        key = (row.group, row.subgroup)
        if not seen or seen[-1] != key:
            assert key not in seen, key
            seen.append(key)


def test_bad_table_rows_are_refused() -> None:
    with pytest.raises(ValueError):
        OptionSpec(None, "-x", "no long prefix")
    with pytest.raises(ValueError):
        spec("-v").replace(status="later")
    with pytest.raises(ValueError):
        spec("-v").replace(args=("N",))


# ----------------------------------------------------------- last one wins, pairs


@pytest.mark.parametrize(
    ("words", "field", "value"),
    [
        ([], "required_only", False),
        (["-R"], "required_only", True),
        (["-R", "-R"], "required_only", True),
        (["+C"], "combine", True),
        (["-x=", "-xi"], "propose", "implicit"),
        (["-xi", "-x="], "propose", "uncompr"),
        (["-xe", "-xb"], "propose", "big"),
        (["-xb", "--propose-little"], "propose", "little"),
        (["+f", "-f", "+fo"], "read_mode", "fileformat"),
        (["+fo", "+f"], "read_mode", "auto"),
        (["+fo", "-f"], "read_mode", "dataset"),
        (["-q", "-v", "-d"], "log_level", "debug"),
        (["-d", "-q"], "log_level", "fatal"),
        (["-v", "-q", "-v"], "log_level", "info"),
        (["-pdu", "8192", "-pdu", "4096"], "max_pdu", 4096),
        (["-aet", "ONE", "--aetitle", "TWO"], "calling_aet", "TWO"),
        (["-nh", "--no-halt"], "halt", False),
        (["-tls", "-tls"], "halt", True),
    ],
)
def test_last_one_wins(words: list[str], field: str, value: object) -> None:
    assert getattr(parse(*words), field) == value


def test_only_the_last_value_of_an_option_is_checked() -> None:
    # DCMTK evaluates the last occurrence only; an overridden bad value is moot.
    assert parse("-pdu", "1", "-pdu", "4096").max_pdu == 4096


def test_verbose_pc_implies_verbose_unless_a_level_is_given() -> None:
    assert (parse("+v").log_level, parse("+v").show_contexts) == ("info", True)
    assert parse("-d", "+v").log_level == "debug"
    assert parse("+v", "-d").log_level == "debug"
    assert parse("-q", "+v").log_level == "fatal"
    assert parse("+v", "-ll", "trace").log_level == "trace"


def test_log_level_and_config_conflict_like_dcmtk() -> None:
    assert usage_error("-v", "-ll", "debug", *BASE) == "option -ll not allowed with -v"
    assert usage_error("-ll", "debug", "-q", *BASE) == "option -ll not allowed with -q"
    assert usage_error("--log-config", "x", "-d", *BASE) == (
        "option --log-config not allowed with -d"
    )
    assert usage_error("-ll", "info", "-lc", "x", *BASE) == "option -lc not allowed with -ll"


@pytest.mark.parametrize("level", LOG_LEVELS)
def test_log_levels(level: str) -> None:
    assert parse("-ll", level).log_level == level


def test_bad_log_level() -> None:
    assert usage_error("-ll", "loud", *BASE) == (
        "invalid value for option -ll: loud "
        "(expected one of fatal, error, warn, info, debug, trace)"
    )


# ------------------------------------------------------------------------ ranges


@pytest.mark.parametrize("option", ["-pdu", "--max-pdu", "--max-send-pdu"])
def test_pdu_range(option: str) -> None:
    field = "max_send_pdu" if option == "--max-send-pdu" else "max_pdu"
    assert getattr(parse(option, "4096"), field) == 4096
    assert getattr(parse(option, "131072"), field) == 131072
    for bad in ("4095", "131073", "2000", "0", "-1"):
        assert usage_error(option, bad, *BASE) == (
            f"invalid value for option {option}: {bad} (allowed range 4096..131072)"
        )
    for bad in ("abc", "16k", "4096.0", "1_6384", ""):
        assert "(expected an integer)" in usage_error(option, bad, *BASE)


def test_pdu_error_wording_from_the_brief() -> None:
    assert usage_error("-pdu", "2000", *BASE) == (
        "invalid value for option -pdu: 2000 (allowed range 4096..131072)"
    )


@pytest.mark.parametrize("port", ["0", "65536", "abc", "-1", "", "1e3", "80.5"])
def test_bad_port(port: str) -> None:
    assert usage_error("pacs", port, "a.dcm").startswith("invalid value for parameter port: ")
    assert usage_error("pacs", port, "a.dcm").endswith("(allowed range 1..65535)")


@pytest.mark.parametrize("port", ["1", "104", "65535"])
def test_good_port(port: str) -> None:
    options = parse_args(["pacs", port, "a.dcm"])
    assert isinstance(options, Options)
    assert options.port == int(port)


def test_repeat_range() -> None:
    assert parse("--repeat", "1").repeat == 1
    assert usage_error("--repeat", "0", *BASE) == (
        "invalid value for option --repeat: 0 (allowed range 1..2147483647)"
    )
    assert "expected an integer" in usage_error("--repeat", "x", *BASE)


@pytest.mark.parametrize(
    ("option", "field"),
    [("-to", "connect_timeout"), ("-ta", "acse_timeout"), ("-td", "dimse_timeout")],
)
def test_positive_timeouts(option: str, field: str) -> None:
    assert getattr(parse(option, "1.5"), field) == 1.5
    assert getattr(parse(option, "30"), field) == 30.0
    for bad in ("0", "-1", "0.0"):
        assert "must be greater than 0" in usage_error(option, bad, *BASE)
    for bad in ("abc", "inf", "nan", "1e3", ""):
        assert "expected a number of seconds" in usage_error(option, bad, *BASE)


def test_socket_timeout_zero_and_minus_one_mean_none() -> None:
    assert parse("-ts", "0").socket_timeout is None
    assert parse("-ts", "-1").socket_timeout is None
    assert parse("-ts", "2.5").socket_timeout == 2.5
    assert "allowed range -1.." in usage_error("-ts", "-2", *BASE)


@pytest.mark.parametrize("option", ["-aet", "--aetitle", "-aec", "--call"])
def test_ae_titles(option: str) -> None:
    field = "calling_aet" if option in ("-aet", "--aetitle") else "called_aet"
    assert getattr(parse(option, "A" * 16), field) == "A" * 16
    assert getattr(parse(option, "MY SCU"), field) == "MY SCU"
    assert usage_error(option, "A" * 17, *BASE) == (
        f"invalid value for option {option}: {'A' * 17} (an AE title has at most 16 characters)"
    )
    assert "must not be empty" in usage_error(option, "", *BASE)
    assert "must not be empty" in usage_error(option, "   ", *BASE)
    assert "printable ASCII" in usage_error(option, "A\\B", *BASE)
    assert "printable ASCII" in usage_error(option, "ÄRZTE", *BASE)


# --------------------------------------------------------------------- operands


def test_missing_parameters() -> None:
    assert usage_error("-v") == "missing parameter peer"
    assert usage_error("pacs") == "missing parameter port"
    assert usage_error("pacs", "104") == "missing parameter dcmfile-in"
    assert usage_error("-aet", "X", "pacs", "104", "-v") == "missing parameter dcmfile-in"


def test_empty_peer() -> None:
    assert usage_error("", "104", "a.dcm").startswith("invalid value for parameter peer")


def test_options_may_follow_and_sit_between_operands() -> None:
    options = parse_args(["pacs", "-v", "104", "a.dcm", "-aet", "ME", "b.dcm"])
    assert isinstance(options, Options)
    assert (options.peer, options.port, options.files) == ("pacs", 104, ("a.dcm", "b.dcm"))
    assert (options.log_level, options.calling_aet) == ("info", "ME")


def test_option_values_are_taken_literally() -> None:
    # As DCMTK: the word after -aet is its value even if it looks like an option.
    assert parse("-aet", "-FOO").calling_aet == "-FOO"
    assert parse("-aec", "+v").called_aet == "+v"
    assert parse("-lc", "--").log_config == "--"
    assert parse("-lc", "@cfg").log_config == "@cfg"  # not expanded either


def test_double_dash_ends_options() -> None:
    options = parse_args(["-v", "--", "pacs", "104", "-foo.dcm", "+x.dcm", "--help", "--"])
    assert isinstance(options, Options)
    assert options.files == ("-foo.dcm", "+x.dcm", "--help", "--")
    assert options.log_level == "info"
    assert usage_error("pacs", "104", "-foo.dcm") == "unknown option -foo.dcm"
    assert usage_error("pacs", "104", "+x.dcm") == "unknown option +x.dcm"


def test_lone_dash_and_plus_are_operands() -> None:
    options = parse_args(["pacs", "104", "-", "+"])
    assert isinstance(options, Options)
    assert options.files == ("-", "+")


def test_unknown_options_are_exact() -> None:
    assert usage_error("--foo", *BASE) == "unknown option --foo"
    assert usage_error("--verb", *BASE) == "unknown option --verb"  # no abbreviations
    assert usage_error("-aet=X", *BASE) == "unknown option -aet=X"
    assert usage_error("--aetitle=X", *BASE) == "unknown option --aetitle=X"
    assert usage_error("-V", *BASE) == "unknown option -V"  # case matters
    assert usage_error("-vd", *BASE) == "unknown option -vd"  # no bundling


def test_missing_option_values() -> None:
    assert usage_error("-aet") == "missing value for option -aet"
    assert usage_error("pacs", "104", "a.dcm", "--max-pdu") == "missing value for option --max-pdu"
    assert usage_error("-xf", "only-one") == "missing value for option -xf"


# ------------------------------------------------------------------ @file input


def test_command_file(tmp_path: Path) -> None:
    (tmp_path / "opts").write_text("-v\n-aet \"MY SCU\"  -aec 'PACS'\n--max-pdu 32768\n")
    options = parse_args([f"@{tmp_path / 'opts'}", "pacs", "104", "b.dcm"])
    assert isinstance(options, Options)
    assert options.log_level == "info"
    assert (options.calling_aet, options.called_aet, options.max_pdu) == ("MY SCU", "PACS", 32768)
    assert options.args_expanded == (
        "-v", "-aet", "MY SCU", "-aec", "PACS", "--max-pdu", "32768", "pacs", "104", "b.dcm",
    )  # fmt: skip


def test_command_file_with_quoted_path_operand(tmp_path: Path) -> None:
    (tmp_path / "args").write_text("pacs 104 \"/data/my studies/ct 1.dcm\" 'b c.dcm'\n")
    options = parse_args(["-d", f"@{tmp_path / 'args'}"])
    assert isinstance(options, Options)
    assert options.files == ("/data/my studies/ct 1.dcm", "b c.dcm")
    assert options.log_level == "debug"


def test_command_file_option_takes_value_from_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "opts").write_text("-aet")
    assert parse(f"@{tmp_path / 'opts'}", "FROMARGV").calling_aet == "FROMARGV"


def test_command_files_do_not_nest_and_double_dash_stops_expansion(tmp_path: Path) -> None:
    (tmp_path / "inner").write_text("-d")
    (tmp_path / "outer").write_text(f"-v @{tmp_path / 'inner'}")
    options = parse_args([f"@{tmp_path / 'outer'}", "104", "a.dcm"])
    assert isinstance(options, Options)
    # "@inner" inside a command file is a literal word (a file name here), as DCMTK
    assert options.peer == f"@{tmp_path / 'inner'}"
    options = parse_args(["pacs", "104", "--", f"@{tmp_path / 'inner'}"])
    assert isinstance(options, Options)
    assert options.files == (f"@{tmp_path / 'inner'}",)


def test_command_file_errors(tmp_path: Path) -> None:
    assert usage_error(f"@{tmp_path / 'missing'}", *BASE).startswith(
        f"cannot open command file '{tmp_path / 'missing'}'"
    )
    (tmp_path / "bad").write_text('-aet "unterminated\n')
    assert "unterminated" in usage_error(f"@{tmp_path / 'bad'}", *BASE)
    (tmp_path / "unknown").write_text("--nope")
    assert usage_error(f"@{tmp_path / 'unknown'}", *BASE) == "unknown option --nope"


def test_nul_characters_are_refused(tmp_path: Path) -> None:
    (tmp_path / "nul").write_bytes(b"-aet A\0B")
    assert "NUL character" in usage_error(f"@{tmp_path / 'nul'}", *BASE)
    assert "NUL character" in usage_error("pacs", "104", "a\0.dcm")


def test_lone_at_sign_is_an_operand() -> None:
    options = parse_args(["pacs", "104", "@"])
    assert isinstance(options, Options)
    assert options.files == ("@",)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", []),
        ("  \n\t ", []),
        ("-v -d", ["-v", "-d"]),
        ('"a b" c', ["a b", "c"]),
        ("'a \"b\"'", ['a "b"']),
        ('-aet="X Y"', ["-aet=X Y"]),
        ('""', [""]),
        ("C:\\dicom\\a.dcm", ["C:\\dicom\\a.dcm"]),
        ("a\r\nb", ["a", "b"]),
    ],
)
def test_split_command_file(text: str, words: list[str]) -> None:
    assert split_command_file(text) == words


def test_arguments_option_keeps_expanded_argv(tmp_path: Path) -> None:
    (tmp_path / "o").write_text("-v")
    options = parse("--arguments", f"@{tmp_path / 'o'}")
    assert options.print_arguments
    assert options.args_expanded == ("--arguments", "-v", *BASE)


# -------------------------------------------------------------- pending options


PENDING_ROWS = [r for r in OPTION_TABLE if r.pending_topic is not None]


def test_pending_list_matches_the_plan() -> None:
    planned = {name: topic for topic, names in PENDING.items() for name in names.split()}
    actual = {
        (r.short or r.long): r.pending_topic for r in OPTION_TABLE if r.pending_topic is not None
    }
    assert actual == planned


@pytest.mark.parametrize(
    "spelling", [s for r in PENDING_ROWS for s in r.spellings], ids=lambda s: s
)
def test_pending_option_is_refused_with_its_topic(spelling: str) -> None:
    row = spec(spelling)
    values = [f"value{i}" for i in range(len(row.args))]
    message = usage_error(spelling, *values, *BASE)
    assert message == f"option {spelling} is not supported yet ({row.pending_topic})"


def test_config_file_takes_two_values_literally() -> None:
    # -xf takes two values, even when they look like options.
    assert parse("-xf", "-a.cfg", "+P").config_file == ("-a.cfg", "+P")


@pytest.mark.parametrize("other", ["-xs", "-xi", "-xd", "-R", "+C"])
def test_config_file_conflicts_as_in_dcmtk(other: str) -> None:
    assert usage_error("-xf", "a.cfg", "P", other, *BASE) == f"option -xf not allowed with {other}"


def test_compression_level_needs_deflate_or_a_config_file() -> None:
    assert usage_error("+cl", "3", *BASE) == "option +cl only allowed with -xd or -xf"
    assert parse("+cl", "0", "-xf", "a.cfg", "P").compression_level == 0
    assert usage_error("+cl", "10", "-xd", *BASE).endswith("(allowed range 0..9)")


def test_last_of_a_pair_wins_for_the_new_pairs() -> None:
    assert parse("-u", "+u").new_vrs is True
    assert parse("-fs").propose_file_syntaxes is False
    assert parse("+fc", "-fc").propose_file_classes is False
    assert parse("+dly", "-dn").decompress == "never"


@pytest.mark.parametrize("word", ["-tls", "--disable-tls", "+u", "--enable-new-vr"])
def test_accepted_defaults_are_no_ops(word: str) -> None:
    assert parse(word) == parse().replace(args_expanded=(word, *BASE))


# ------------------------------------------------------------- help and version


def _options_in(text: str) -> list[tuple[str | None, str]]:
    """(short, long) pairs of a DCMTK-layout help text."""
    found: list[tuple[str | None, str]] = []
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        first = words[0]
        if first[0] in "-+" and not first.startswith("--") and len(words) > 1:
            if words[1].startswith("--"):
                found.append((first, words[1]))
        elif first.startswith("--") and line.startswith(" " * 6):
            found.append((None, first))
    return found


def test_manual_list_is_current() -> None:
    if not MANUAL.exists():
        pytest.skip("seed manual not available here; the embedded copy is used")
    usage = MANUAL.read_text().split("USAGE", 1)[1].split("DICOM CONFORMANCE", 1)[0]
    assert _options_in(usage) == MANUAL_OPTIONS


def test_help_lists_every_option_of_the_manual_and_of_dcmtk() -> None:
    listed = dict((long, short) for short, long in _options_in(help_text()))
    for short, long in MANUAL_OPTIONS + DCMTK_367_EXTRA + DCMTK_37_EXTRA:
        assert long in listed, long
        if short is not None:  # the manual's --no-halt got -nh later
            assert listed[long] == short, long
    assert len(listed) == len(OPTION_TABLE)


def test_help_layout() -> None:
    text = help_text()
    lines = text.splitlines()
    assert lines[1] == "usage: storescu [options] peer port dcmfile-in..."
    assert "general options:" in lines
    assert "  application entity titles:" in lines
    assert any(line.startswith("  -h      --help  ") for line in lines)
    assert any(line.startswith("    -aet  --aetitle  ") for line in lines)
    assert max(len(line) for line in lines) <= 79
    assert text.endswith(EXIT_CODES_TEXT)
    # pending options are marked so nobody expects them to work yet, on their
    # own lines or on their subgroup's heading
    for row in OPTION_TABLE:
        if row.pending_topic is None:
            continue
        at = next(i for i, line in enumerate(lines) if row.long in line.split())
        block = lines[at : at + 3]
        heading = next(line for line in reversed(lines[:at]) if line.rstrip().endswith(":"))
        assert any("(not supported yet)" in line for line in [*block, heading]), row.long


@pytest.mark.parametrize("word", ["-h", "--help"])
def test_help_request(word: str) -> None:
    assert parse_args([word]) == InfoRequest("help", help_text())
    # DCMTK: --help wins over bad values, missing operands and --version
    assert parse_args(["-pdu", "1", word]) == InfoRequest("help", help_text())
    assert parse_args(["--version", word]) == InfoRequest("help", help_text())
    assert parse_args(["+tls", "k", "c", word]).kind == "help"  # type: ignore[union-attr]


def test_help_does_not_hide_unreadable_words() -> None:
    assert usage_error("--help", "--foo") == "unknown option --foo"


def test_empty_command_line_prints_help_like_dcmtk() -> None:
    assert parse_args([]) == InfoRequest("help", help_text())


def test_version() -> None:
    result = parse_args(["--version", "pacs"])
    assert isinstance(result, InfoRequest)
    assert result.kind == "version"
    lines = result.text.splitlines()
    assert lines[0] == f"storescu {__version__} (Python re-implementation of DCMTK storescu)"
    assert lines[1] == f"Python {sys.version.split()[0]}"
    assert lines[2].startswith("pydicom ")
    assert result.text == version_text()


def test_nothing_is_printed_and_nothing_exits(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--foo"], ["-pdu", "x", *BASE], ["--help"], ["--version"], ["-aet"]):
        try:
            parse_args(argv)
        except UsageError:
            pass
    assert capsys.readouterr() == ("", "")


def test_argparse_parser_never_exits() -> None:
    parser = build_parser()
    assert parser.prefix_chars == "-+"
    assert parser.allow_abbrev is False
    with pytest.raises(UsageError):
        parser.parse_args(["--no-such-option"])
    with pytest.raises(UsageError):
        parser.exit(2, "bye")


def test_argparse_parser_knows_every_spelling() -> None:
    parser = build_parser()
    for row in OPTION_TABLE:
        for spelling in row.spellings:
            assert spelling in parser._option_string_actions, spelling


def test_import_is_cheap() -> None:
    code = (
        "import sys, storescu.cli.parser\n"
        "assert 'pydicom' not in sys.modules, 'pydicom imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -------------------------------------------------------------------- exit codes


def test_exit_codes() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 3, 4, 10, 130, 143]
    assert exit_code_for_status(0xA700) == 167
    assert exit_code_for_status(0xC000) == 192
    assert exit_code_for_status(0xA900) == 169
    assert exit_code_for_status(0x0122) == 1
    assert exit_code_for_status(0x0005) == ExitCode.FAILURE  # never 0 for a failure
    for code in ("0 ", "1 ", "3 ", "10 ", "N ", "130 ", "143 "):
        assert f"\n  {code}" in EXIT_CODES_TEXT
    assert "0xA700 -> 167" in EXIT_CODES_TEXT
    assert "DCMTK exits 0 here" in EXIT_CODES_TEXT


def test_options_is_frozen_and_compares_by_value() -> None:
    options = parse()
    with pytest.raises(AttributeError):
        options.repeat = 2  # type: ignore[misc]
    assert options == parse() and hash(options) == hash(parse())
    assert options.replace(repeat=3).repeat == 3 and options.repeat == 1
    assert options.replace(repeat=3) != options
    with pytest.raises(TypeError):
        Options("h", 1, (), no_such_field=1)
    assert Options.fields()[:3] == ("peer", "port", "files")
    assert "Options(peer=" in repr(options)


def test_parsing_does_not_import_argparse() -> None:
    code = (
        "import sys\n"
        "from storescu.cli.parser import parse_args\n"
        "parse_args(['-v', '-P', '2', '+IR', '4', 'host', '104', 'a.dcm'])\n"
        "assert 'argparse' not in sys.modules, 'argparse imported'\n"
        "assert 'dataclasses' not in sys.modules, 'dataclasses imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_priority_names_and_default() -> None:
    """Issue 14.3: LOW / MEDIUM / HIGH (PS3.7 9.1.1.1.9); MEDIUM by default, as DCMTK."""
    assert parse().priority == "medium"
    assert parse("--priority", "low").priority == "low"
    assert parse("--priority", "low", "--priority", "high").priority == "high"
    with pytest.raises(UsageError, match="expected one of low, medium, high"):
        parse("--priority", "urgent")


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["--dask-partition", "5"], "only allowed with --dask"),
        (["--dask-associations", "5"], "only allowed with --dask"),
        (["--dask", "local:0"], "invalid value for --dask"),
        (["--dask", "local:x"], "invalid value for --dask"),
        (["--dask", "local:2", "+II"], "not allowed with --dask"),
        (["--dask", "local:2", "--echo"], "not allowed with --dask"),
        (["--dask", "local:2", "-P", "4", "--dask-associations", "2"], "less than -P 4"),
    ],
)
def test_dask_rules(words: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_args([*words, "host", "104", "a.dcm"])


def test_dask_defaults_and_tls_off_is_fine() -> None:
    options = parse_args(["--dask", "local:2", "-tls", "host", "104", "a.dcm"])
    assert isinstance(options, Options)
    assert (options.dask, options.dask_partition, options.dask_associations) == (
        "local:2",
        1000,
        None,
    )


def test_compress_values_and_rules() -> None:
    for codec in ("jpeg-ls", "j2k", "htj2k", "rle", "deflate", "auto"):
        assert parse("--compress", codec).compress == codec
    assert parse().compress is None and parse().verify_compression
    assert usage_error("--compress", "jpeg", *BASE) == (
        "invalid value for option --compress: jpeg "
        "(expected one of jpeg-ls, j2k, htj2k, rle, deflate, auto)"
    )
    assert usage_error("--no-verify-compression", *BASE) == (
        "option --no-verify-compression only allowed with --compress"
    )
    # +cl sets the deflate level of --compress deflate too.
    assert parse("--compress", "deflate", "+cl", "9").compression_level == 9
