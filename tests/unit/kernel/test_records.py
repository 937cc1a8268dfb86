"""storescu.kernel.records: the cheap @dataclass behaves as dataclasses' for what the package uses.

Each check builds the same class with both decorators and compares behaviour:
construction (positional, keyword, defaults, factories, init=False,
__post_init__), repr, equality and hashing, frozen assignment, slots, and
dataclasses.fields / replace / asdict on the cheap classes.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from typing import Any

import pytest

from storescu.kernel import records as _records
from storescu.kernel.records import FrozenInstanceError


def _both(**params: Any) -> tuple[type[Any], type[Any]]:
    """The same class body decorated by dataclasses and by _records."""

    def body(decorator: Any, field: Any) -> type[Any]:
        @decorator(**params)
        class Point:
            """A point."""

            x: int
            y: int = 2
            tags: list[str] = field(default_factory=list)
            note: str = field(default="n", compare=False, repr=False)

        return Point

    return body(dataclasses.dataclass, dataclasses.field), body(_records.dataclass, _records.field)


@pytest.mark.parametrize(
    "params", [{}, {"frozen": True}, {"slots": True}, {"frozen": True, "slots": True}]
)
def test_behaves_as_dataclasses(params: dict[str, bool]) -> None:
    real, cheap = _both(**params)
    for args, kwargs in [
        ((1,), {}),
        ((1, 5), {}),
        ((), {"x": 3, "tags": ["a"]}),
        ((1, 2, ["t"], "z"), {}),
    ]:
        a, b = real(*args, **kwargs), cheap(*args, **kwargs)
        assert repr(a).replace("test_behaves_as_dataclasses.<locals>.body.<locals>.", "") == repr(
            b
        ).replace("test_behaves_as_dataclasses.<locals>.body.<locals>.", "")
        assert (a.x, a.y, a.tags, a.note) == (b.x, b.y, b.tags, b.note)
        assert b == cheap(*args, **kwargs)
        assert (b == cheap(9)) is False
        assert b != real(*args, **kwargs)  # another class is never equal
    assert cheap(1).tags is not cheap(1).tags  # a fresh list each time
    assert cheap(1, note="a") == cheap(1, note="b")  # compare=False
    assert cheap.__match_args__ == real.__match_args__
    assert hasattr(cheap, "__slots__") == hasattr(real, "__slots__")
    frozen = params.get("frozen", False)
    if frozen:
        assert hash(cheap(1, 2, ("t",))) == hash(cheap(1, 2, ("t",)))
        with pytest.raises(TypeError):
            hash(cheap(1))  # a list field: unhashable, as with dataclasses
        with pytest.raises(FrozenInstanceError):
            cheap(1).x = 5
        with pytest.raises(AttributeError):
            del cheap(1).x
    else:
        assert cheap.__hash__ is None and real.__hash__ is None  # eq without frozen
        point = cheap(1)
        point.x = 7
        assert point.x == 7
    with pytest.raises(TypeError):
        cheap()  # x is required


def test_dataclasses_functions_work_on_the_cheap_classes() -> None:
    _, cheap = _both(frozen=True, slots=True)
    point = cheap(1, 2, ["a"])
    assert dataclasses.is_dataclass(point)
    assert [f.name for f in dataclasses.fields(point)] == ["x", "y", "tags", "note"]
    assert dataclasses.replace(point, y=9) == cheap(1, 9, ["a"])
    assert dataclasses.asdict(point) == {"x": 1, "y": 2, "tags": ["a"], "note": "n"}
    assert _records.replace(point, x=4).x == 4
    assert [f.name for f in _records.fields(point)] == ["x", "y", "tags", "note"]


def test_init_false_and_post_init() -> None:
    @_records.dataclass
    class Stream:
        source: str
        _position: int = _records.field(default=0, init=False, repr=False)
        _buffer: list[int] = _records.field(default_factory=list, init=False)
        _later: int = _records.field(init=False)

        def __post_init__(self) -> None:
            self._later = len(self.source)

    stream = Stream("abc")
    assert (stream._position, stream._buffer, stream._later) == (0, [], 3)
    assert repr(stream).endswith("Stream(source='abc', _buffer=[], _later=3)")
    with pytest.raises(TypeError):
        Stream("a", 1)  # type: ignore[call-arg]


def test_mistakes_are_refused_as_dataclasses_refuses_them() -> None:
    with pytest.raises(ValueError):

        @_records.dataclass
        class Mutable:
            items: list[int] = []

    with pytest.raises(TypeError):

        @_records.dataclass
        class Order:
            a: int = 1
            b: int

    with pytest.raises(TypeError):
        _records.dataclass(order=True)  # type: ignore[call-overload]


def test_importing_the_core_classes_needs_no_dataclasses() -> None:
    code = (
        "import sys\n"
        "import storescu.net.client, storescu.run.sender, storescu.run.inputs, storescu.cli.main\n"
        "for name in ('dataclasses', 'inspect', 'ssl', 'argparse'):\n"
        "    assert name not in sys.modules, name\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_compiled_init_code_is_cached_like_bytecode(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "records.cache"
    monkeypatch.setattr(_records, "_CACHE_PATH", str(cache))
    monkeypatch.setattr(_records, "_cache", None)
    monkeypatch.setattr(_records, "_cache_dirty", False)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    source = "def __init__(self, a):\n    self.a = a"
    code = _records._compiled(source)
    _records.save_cache()
    assert cache.exists()
    monkeypatch.setattr(_records, "_cache", None)
    assert _records._compiled(source) == code and not _records._cache_dirty  # a hit
    cache.write_bytes(b"not marshal data")  # a damaged cache is ignored
    monkeypatch.setattr(_records, "_cache", None)
    assert _records._compiled(source) == code
    monkeypatch.setattr(_records, "_cache_dirty", False)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # PYTHONDONTWRITEBYTECODE
    cache.unlink()
    monkeypatch.setattr(_records, "_cache", None)
    _records._compiled(source + "\n")
    _records.save_cache()
    assert not cache.exists()
