"""storescu.run.inputs and storescu.dataset.dicomdir: walking, file lists, DICOMDIRs, no network."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from storescu.dataset.dicomdir import (
    MEDIA_STORAGE_DIRECTORY,
    DicomdirError,
    referenced_files,
    resolve_file_id,
)
from storescu.run.inputs import (
    IGNORED_DIRECTORY,
    Entry,
    FileListReader,
    InputOptions,
    InputWalker,
    ItemStream,
    Origin,
    open_inputs,
)
from storescu.run.report import ReportWriter, SentIndex
from storescu.run.results import FileResult, Outcome
from tests.helpers.tree import instance_uid, make_tree, write_instance

SCAN = InputOptions(scan_directories=True)
SCAN_ALL = InputOptions(scan_directories=True, recurse=True)


@contextlib.contextmanager
def _warnings() -> Iterator[io.StringIO]:
    """The storescu logger's warnings (a handler of its own: the CLI may stop propagation)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("storescu")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _paths(entries: object) -> list[str]:
    return [e.path for e in entries]  # type: ignore[attr-defined]


# --- the walker ----------------------------------------------------------------------


def test_operands_in_order_and_directories_ignored_without_sd(tmp_path: Path) -> None:
    a = write_instance(tmp_path / "b.dcm", 1)
    entries = list(InputWalker([str(a), str(tmp_path), "missing.dcm"]))
    assert entries == [
        Entry(str(a), Origin.ARGUMENT),
        Entry(str(tmp_path), Origin.ARGUMENT, ignored=IGNORED_DIRECTORY),
        Entry("missing.dcm", Origin.ARGUMENT),
    ]


def test_scan_is_sorted_depth_first_with_hidden_files(tmp_path: Path) -> None:
    for name in ("c.dcm", "a.dcm", ".hidden.dcm", "sub/x.dcm", "sub/deeper/y.dcm", "b/z.dcm"):
        write_instance(tmp_path / name, 1)
    flat = _paths(InputWalker([str(tmp_path)], SCAN))
    assert flat == [str(tmp_path / n) for n in (".hidden.dcm", "a.dcm", "c.dcm")]
    deep = _paths(InputWalker([str(tmp_path)], SCAN_ALL))
    # Names sorted in each directory; a subdirectory is walked where it sorts.
    order = [".hidden.dcm", "a.dcm", "b/z.dcm", "c.dcm", "sub/deeper/y.dcm", "sub/x.dcm"]
    assert deep == [str(tmp_path / n) for n in order]
    assert all(e.origin is Origin.SCAN for e in InputWalker([str(tmp_path)], SCAN_ALL))


def test_pattern_applies_to_file_names_only_and_is_case_sensitive(tmp_path: Path) -> None:
    for name in ("a.dcm", "A.DCM", "notes.txt", "sub.dcm/inner.dcm", "sub.dcm/inner.txt"):
        write_instance(tmp_path / name, 1)
    options = InputOptions(scan_directories=True, pattern="*.dcm", recurse=True)
    assert _paths(InputWalker([str(tmp_path)], options)) == [
        str(tmp_path / "a.dcm"),
        str(tmp_path / "sub.dcm" / "inner.dcm"),
    ]


def test_current_directory_names_have_no_dot_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_instance(tmp_path / "a.dcm", 1)
    monkeypatch.chdir(tmp_path)
    assert _paths(InputWalker(["."], SCAN)) == ["a.dcm"]  # as DCMTK


def test_links_followed_loops_skipped_odd_files_reported(tmp_path: Path) -> None:
    real = write_instance(tmp_path / "real" / "a.dcm", 1)
    (tmp_path / "real" / "link.dcm").symlink_to(real)
    (tmp_path / "real" / "dangling.dcm").symlink_to(tmp_path / "nowhere")
    (tmp_path / "real" / "loop").symlink_to(tmp_path / "real")
    os.mkfifo(tmp_path / "real" / "fifo.dcm")
    with _warnings() as log:
        entries = list(InputWalker([str(tmp_path / "real")], SCAN_ALL))
    by_name = {Path(e.path).name: e for e in entries}
    assert list(by_name) == ["a.dcm", "dangling.dcm", "fifo.dcm", "link.dcm"]
    assert by_name["a.dcm"].error is None and by_name["link.dcm"].error is None
    assert by_name["dangling.dcm"].error == "cannot access file: broken symbolic link"
    assert by_name["fifo.dcm"].error == "not a regular file"  # never opened: it would block
    assert "a link to a directory it is inside of" in log.getvalue()


def test_unreadable_directory_is_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: str) -> object:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(os, "scandir", refuse)
    (entry,) = InputWalker([str(tmp_path)], SCAN)
    assert entry.error == "cannot read directory: Permission denied"


def test_walker_survives_an_exception_in_the_middle(tmp_path: Path) -> None:
    """An interrupted run drains the same walker: it must not lose its place."""
    for n in range(4):
        write_instance(tmp_path / f"{n}.dcm", n)
    walker = InputWalker([str(tmp_path)], SCAN)
    first = next(walker)
    rest = list(walker)
    assert [first.path, *_paths(rest)] == [str(tmp_path / f"{n}.dcm") for n in range(4)]


def test_large_tree_is_walked_lazily(tmp_path: Path) -> None:
    tree = make_tree(tmp_path, studies=2, series=2, images=3)
    walker = InputWalker([str(tmp_path)], InputOptions(True, "*.dcm", True))
    assert next(walker).path == str(tree.dicom[0])
    assert len(walker._stack) == 3  # root, STUDY1, SERIES01: one listing per level


# --- --file-list ---------------------------------------------------------------------


def test_file_list_lines() -> None:
    raw = b"a.dcm\r\n\n   \nb c.dcm\nlast-without-newline"
    assert list(FileListReader(io.BytesIO(raw))) == ["a.dcm", "b c.dcm", "last-without-newline"]


def test_file_list_keeps_undecodable_names(tmp_path: Path) -> None:
    name = os.fsdecode(b"caf\xe9.dcm")  # Latin-1, not UTF-8
    (path,) = FileListReader(io.BytesIO(b"caf\xe9.dcm\n"))
    assert path == name
    assert os.fsencode(path) == b"caf\xe9.dcm"


def test_file_list_follows_operands_and_scans_directories(tmp_path: Path) -> None:
    a = write_instance(tmp_path / "a.dcm", 1)
    write_instance(tmp_path / "d" / "x.dcm", 2)
    listed = FileListReader(io.BytesIO(f"{tmp_path / 'd'}\n".encode()))
    entries = list(InputWalker([str(a)], SCAN, listed))
    assert [(Path(e.path).name, e.origin) for e in entries] == [
        ("a.dcm", Origin.ARGUMENT),
        ("x.dcm", Origin.SCAN),
    ]


# --- DICOMDIR ------------------------------------------------------------------------


def _dicomdir(folder: Path, ids: list[list[str] | str]) -> Path:
    """A minimal DICOMDIR whose IMAGE records carry `ids`."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = MEDIA_STORAGE_DIRECTORY
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.FileSetID = "TEST"
    records = []
    patient = Dataset()
    patient.DirectoryRecordType = "PATIENT"
    records.append(patient)
    path = folder / "DICOMDIR"
    with warnings.catch_warnings():  # the unsafe IDs are invalid CS values on purpose
        warnings.simplefilter("ignore")
        for file_id in ids:
            record = Dataset()
            record.DirectoryRecordType = "IMAGE"
            record.ReferencedFileID = file_id
            records.append(record)
        ds.DirectoryRecordSequence = Sequence(records)
        ds.save_as(path, enforce_file_format=True)
    return path


def test_dicomdir_references_resolved_in_record_order(tmp_path: Path) -> None:
    write_instance(tmp_path / "DIR1" / "IMG1", 1)
    write_instance(tmp_path / "DIR1" / "IMG2", 2)
    dicomdir = _dicomdir(tmp_path, [["DIR1", "IMG2"], ["DIR1", "IMG1"], ["DIR1", "IMG2"]])
    refs = referenced_files(str(dicomdir))
    assert [(r.path, r.error) for r in refs] == [
        (str(tmp_path / "DIR1" / "IMG2"), None),  # duplicates kept once
        (str(tmp_path / "DIR1" / "IMG1"), None),
    ]


def test_dicomdir_case_insensitive_lookup(tmp_path: Path) -> None:
    write_instance(tmp_path / "dir1" / "img1.", 1)  # lowercase copy, trailing period
    assert resolve_file_id(str(tmp_path), ["DIR1", "IMG1"]) == str(tmp_path / "dir1" / "img1.")


@pytest.mark.parametrize(
    ("file_id", "why"),
    [
        (["..", "..", "ETC", "PASSWD"], "unsafe"),
        (["DIR", "..", "..", "X"], "unsafe"),
        (["/etc/passwd"], "unsafe"),
        (["DIR\\..\\X"], "unsafe"),
        (["."], "unsafe"),
        ([""], "unsafe"),
        (["A\0B"], "unsafe"),
        (["C:", "X"], "unsafe"),
    ],
)
def test_dicomdir_unsafe_ids_rejected(tmp_path: Path, file_id: list[str], why: str) -> None:
    with pytest.raises(DicomdirError, match=why):
        resolve_file_id(str(tmp_path / "media"), file_id)


def test_dicomdir_symlink_escape_rejected(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    outside = write_instance(tmp_path / "secret.dcm", 1)
    (media / "LINK").symlink_to(outside)
    with pytest.raises(DicomdirError, match="outside the DICOMDIR's folder"):
        resolve_file_id(str(media), ["LINK"])


def test_dicomdir_rejected_ids_are_reported_not_opened(tmp_path: Path) -> None:
    write_instance(tmp_path / "IMG1", 1)
    dicomdir = _dicomdir(tmp_path, [["..", "SECRET"], "IMG1"])
    items = list(open_inputs([str(dicomdir)]))
    assert [(i.path, i.error) for i in items][1] == (str(tmp_path / "IMG1"), None)
    rejected = items[0]
    assert rejected.path == f"{dicomdir}:..\\SECRET"  # names no file
    assert rejected.error is not None and "unsafe" in rejected.error
    assert items[1].info is not None and items[1].info.sop_instance_uid == instance_uid(1)


def test_dicomdir_found_by_sop_class_and_never_sent(tmp_path: Path) -> None:
    write_instance(tmp_path / "IMG1", 1)
    dicomdir = _dicomdir(tmp_path, ["IMG1"])
    renamed = dicomdir.rename(tmp_path / "index.dcm")
    items = list(open_inputs([str(renamed)]))
    assert [i.path for i in items] == [str(tmp_path / "IMG1")]


def test_dicomdir_in_a_scan_is_left_out(tmp_path: Path) -> None:
    write_instance(tmp_path / "IMG1", 1)
    _dicomdir(tmp_path, ["IMG1"])
    with _warnings() as log:
        items = list(open_inputs([str(tmp_path)], options=SCAN))
    assert [i.path for i in items] == [str(tmp_path / "IMG1")]
    assert "not sending DICOMDIR" in log.getvalue()


def test_bad_dicomdirs_are_invalid_inputs(tmp_path: Path) -> None:
    nested = tmp_path / "nested"
    nested.mkdir()
    inner = _dicomdir(nested, [])
    outer = _dicomdir(tmp_path, [["NESTED", "DICOMDIR"]])
    (broken := tmp_path / "b" / "DICOMDIR").parent.mkdir()
    broken.write_bytes(b"garbage" * 50)
    items = list(open_inputs([str(outer), str(inner), str(broken), "gone/DICOMDIR"]))
    errors = [i.error or "" for i in items]
    assert "referenced by a DICOMDIR" in errors[0]
    assert "references no files" in errors[1]
    assert "cannot read DICOMDIR" in errors[2] and "cannot read DICOMDIR" in errors[3]
    assert all(i.info is None for i in items)


# --- the item stream -------------------------------------------------------------------


def test_item_stream_inspects_lazily_and_stops_inspecting(tmp_path: Path) -> None:
    files = [write_instance(tmp_path / f"{n}.dcm", n) for n in range(3)]
    stream = open_inputs([str(f) for f in files])
    first = next(stream)
    assert first.info is not None
    stream.stop_inspecting()
    rest = list(stream)
    assert [i.path for i in rest] == [str(f) for f in files[1:]]
    assert all(i.info is None and i.error is None and i.preset is None for i in rest)


def test_item_stream_skip_sent_and_ignored_directories(tmp_path: Path) -> None:
    a = write_instance(tmp_path / "a.dcm", 1)
    b = write_instance(tmp_path / "b.dcm", 2)
    report = tmp_path / "r.jsonl"
    with ReportWriter(str(report)) as writer:
        writer(FileResult(str(a), Outcome.SENT, sop_instance_uid=instance_uid(1)))
        writer(FileResult(str(b), Outcome.FAILED_STATUS, status=0xA700))
    (tmp_path / "dir").mkdir()
    stream = ItemStream(
        InputWalker([str(a), str(b), str(tmp_path / "dir")]), sent=SentIndex([str(report)])
    )
    first, second, third = stream
    assert first.preset is not None
    assert first.preset.outcome is Outcome.SKIPPED_ALREADY_SENT
    assert first.preset.sop_instance_uid == instance_uid(1)
    assert second.preset is None and second.info is not None  # failed before: sent again
    assert third.preset is not None and third.preset.outcome is Outcome.IGNORED_DIRECTORY
    assert third.preset.error == IGNORED_DIRECTORY


def test_file_list_lines_are_bounded_and_text() -> None:
    """Issue 14.6: one line at most MAX_LIST_LINE bytes is held; NUL means not text."""
    from storescu.run.inputs import MAX_LIST_LINE

    ok = b"a" * MAX_LIST_LINE
    reader = FileListReader(io.BytesIO(ok + b"\r\n" + ok), "list")
    assert list(reader) == [ok.decode()] * 2 and reader.error is None
    reader = FileListReader(io.BytesIO(b"a.dcm\n" + ok + b"b\nc.dcm\n"), "list")
    assert list(reader) == ["a.dcm"]
    assert reader.error == (
        f"file list 'list': line 2: line longer than {MAX_LIST_LINE} bytes; "
        "the rest of it is not read"
    )

    class Endless(io.RawIOBase):  # /dev/zero: never a newline
        reads = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buf: memoryview) -> int:  # type: ignore[override]
            self.reads += len(buf)
            buf[:] = b"\0" * len(buf)
            return len(buf)

    raw = Endless()
    reader = FileListReader(io.BufferedReader(raw), "/dev/zero")
    assert list(reader) == [] and reader.error is not None
    assert "line 1: not text: NUL byte at column 1" in reader.error
    assert raw.reads <= 2 * 8192 + MAX_LIST_LINE  # nothing like the whole stream
