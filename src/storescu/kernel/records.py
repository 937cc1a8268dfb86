"""``@dataclass`` for the classes on the command line's start-up path, made cheap to define.

Why: :func:`dataclasses.dataclass` writes the source of five or six methods per
class and compiles it at every import -- about 0.75 ms per class on the
benchmark machine, and the command line imports some forty of them, plus
:mod:`dataclasses` itself (with :mod:`inspect`, :mod:`ast`, :mod:`dis`): some
40 ms of a one-file run that DCMTK does in about 40 ms in all. Bytecode
caching does not help, the generated code is never in a ``.pyc``.

This decorator generates only ``__init__`` (the method that must be fast for
every instance, exactly as dataclasses writes it); ``__repr__``, ``__eq__``,
``__hash__`` and the frozen ``__setattr__``/``__delattr__`` are shared
functions. Compiling the ``__init__`` sources still takes ~0.2 ms each, so
the compiled code is kept, like a ``.pyc``, in ``__pycache__/records.<tag>.cache``
next to this module, keyed by the exact source text (:func:`save_cache`
writes it; the command line does, and an ``atexit`` hook); without a writable
``__pycache__``, or with ``PYTHONDONTWRITEBYTECODE``, the sources are just
compiled every time. It supports what this package uses, with dataclasses' semantics:
``frozen``, ``slots``, ``eq``, ``repr``, ``init``; :func:`field` with
``default``, ``default_factory``, ``init``, ``repr``, ``compare``;
``__post_init__``; ``__match_args__``. Anything else (``order``,
``kw_only``, ``InitVar``...) is a TypeError: use :mod:`dataclasses` then.
:func:`dataclasses.fields`, :func:`dataclasses.replace` and
:func:`dataclasses.asdict` work on these classes too (their Field objects are
made on first use); type checkers see a dataclass (PEP 681).
"""

from __future__ import annotations

import marshal
import os
import sys
from collections.abc import Callable
from types import CodeType
from typing import TYPE_CHECKING, Any, TypeVar, overload

__all__ = ["FrozenInstanceError", "dataclass", "field", "fields", "replace", "save_cache"]

_T = TypeVar("_T")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
_HAS_FACTORY: Any = type("_HasFactory", (), {"__repr__": lambda self: "<factory>"})()


class FrozenInstanceError(AttributeError):
    """Assignment to a field of a frozen instance (as :class:`dataclasses.FrozenInstanceError`)."""


class Field:
    """One field: its name and how ``__init__``, ``__repr__`` and ``__eq__`` treat it."""

    __slots__ = ("compare", "default", "default_factory", "init", "name", "repr", "type")

    def __init__(
        self,
        default: Any = MISSING,
        default_factory: Any = MISSING,
        init: bool = True,
        repr: bool = True,
        compare: bool = True,
    ) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.type: object = None
        self.default = default
        self.default_factory = default_factory
        self.init = init
        self.repr = repr
        self.compare = compare


@overload
def field(*, default: _T, init: bool = ..., repr: bool = ..., compare: bool = ...) -> _T: ...
@overload
def field(
    *, default_factory: Callable[[], _T], init: bool = ..., repr: bool = ..., compare: bool = ...
) -> _T: ...
@overload
def field(*, init: bool = ..., repr: bool = ..., compare: bool = ...) -> Any: ...
def field(
    *,
    default: Any = MISSING,
    default_factory: Any = MISSING,
    init: bool = True,
    repr: bool = True,
    compare: bool = True,
) -> Any:
    """Describe a field, as :func:`dataclasses.field`."""
    return Field(default, default_factory, init, repr, compare)


if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**kwargs: object) -> Callable[[_T], _T]:
        return lambda decorator: decorator


@overload
def dataclass(cls: type[_T], /) -> type[_T]: ...
@overload
def dataclass(
    *,
    init: bool = ...,
    repr: bool = ...,
    eq: bool = ...,
    frozen: bool = ...,
    slots: bool = ...,
) -> Callable[[type[_T]], type[_T]]: ...
@dataclass_transform(field_specifiers=(field, Field))
def dataclass(
    cls: type[_T] | None = None,
    /,
    *,
    init: bool = True,
    repr: bool = True,
    eq: bool = True,
    frozen: bool = False,
    slots: bool = False,
) -> type[_T] | Callable[[type[_T]], type[_T]]:
    """Turn `cls` into a data class, as :func:`dataclasses.dataclass` (see the module)."""

    def wrap(cls: type[_T]) -> type[_T]:
        return _process(cls, init, repr, eq, frozen, slots)

    return wrap if cls is None else wrap(cls)


def fields(obj: object) -> tuple[Field, ...]:
    """The fields of a class made by :func:`dataclass` (or of an instance)."""
    cls = obj if isinstance(obj, type) else type(obj)
    found: tuple[Field, ...] | None = cls.__dict__.get("__record_fields__")
    if found is None:
        raise TypeError(f"{cls.__name__} is not a storescu record")
    return found


def replace(obj: _T, /, **changes: Any) -> _T:
    """A copy of `obj` with `changes`, as :func:`dataclasses.replace`."""
    for f in fields(obj):
        if not f.init:
            if f.name in changes:
                raise ValueError(f"field {f.name} is declared with init=False")
            continue
        if f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return type(obj)(**changes)


# ------------------------------------------------------------ compiled-code cache

_CACHE_PATH: str = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "__pycache__",
    f"records.{sys.implementation.cache_tag}.cache",
)
#: Written first in the file: marshal's format is only valid for one Python build.
_CACHE_HEADER: tuple[str, int] = ("storescu-records-1", sys.hexversion)
_cache: dict[str, CodeType] | None = None
_cache_dirty = False


def _load_cache() -> dict[str, CodeType]:
    try:
        with open(_CACHE_PATH, "rb") as handle:
            header, codes = marshal.load(handle)
    except Exception:  # missing, unreadable, another format: start afresh
        return {}
    if tuple(header) != _CACHE_HEADER or not isinstance(codes, dict):
        return {}
    return {k: v for k, v in codes.items() if isinstance(k, str) and isinstance(v, CodeType)}


def _compiled(source: str) -> CodeType:
    """The code of `source`, compiled once per Python build (see the module docstring)."""
    global _cache, _cache_dirty
    if _cache is None:
        _cache = _load_cache()
    code = _cache.get(source)
    if code is None:
        code = compile(source, "<storescu record>", "exec")
        _cache[source] = code
        if not _cache_dirty and not sys.dont_write_bytecode:
            _cache_dirty = True
            import atexit

            atexit.register(save_cache)
    return code


def save_cache() -> None:
    """Write the compiled ``__init__`` code if anything was compiled; never raises."""
    global _cache_dirty
    if not _cache_dirty or _cache is None or sys.dont_write_bytecode:
        return
    _cache_dirty = False
    temporary = f"{_CACHE_PATH}.{os.getpid()}.tmp"
    try:
        with open(temporary, "wb") as handle:
            marshal.dump((_CACHE_HEADER, _cache), handle)
        os.replace(temporary, _CACHE_PATH)  # atomic: readers see the old or the new file
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass


# --------------------------------------------------------------------- internals


def _collect(cls: type) -> list[Field]:
    # Not inspect.get_annotations: importing inspect is what this module avoids.
    annotations = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    found: list[Field] = []
    for name, annotation in annotations.items():
        text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
        if text.startswith(("ClassVar", "typing.ClassVar", "InitVar", "dataclasses.InitVar")):
            if text.startswith(("ClassVar", "typing.ClassVar")):
                continue
            raise TypeError(f"{cls.__name__}.{name}: InitVar is not supported, use dataclasses")
        value = cls.__dict__.get(name, MISSING)
        f = value if isinstance(value, Field) else Field(default=value)
        f.name, f.type = name, annotation
        if isinstance(f.default, (list, dict, set)):
            kind = type(f.default).__name__
            raise ValueError(f"mutable default {kind} for field {name}: use default_factory")
        found.append(f)
    for base in cls.__mro__[1:]:
        if "__record_fields__" in base.__dict__ or "__dataclass_fields__" in base.__dict__:
            raise TypeError(f"{cls.__name__}: inheriting fields is not supported, use dataclasses")
    return found


def _init_source(fields_: list[Field], frozen: bool, post_init: bool) -> tuple[str, dict[str, Any]]:
    """The source of ``__init__`` -- what dataclasses generates -- and its globals."""
    namespace: dict[str, Any] = {"__setattr": object.__setattr__, "_HAS_FACTORY": _HAS_FACTORY}
    params: list[str] = []
    body: list[str] = []
    seen_default = False
    for f in fields_:
        value = f.name
        if f.default_factory is not MISSING:
            namespace[f"_factory_{f.name}"] = f.default_factory
            if f.init:
                params.append(f"{f.name}=_HAS_FACTORY")
                value = f"_factory_{f.name}() if {f.name} is _HAS_FACTORY else {f.name}"
            else:
                value = f"_factory_{f.name}()"
            seen_default = True
        elif f.default is not MISSING:
            namespace[f"_default_{f.name}"] = f.default
            if f.init:
                params.append(f"{f.name}=_default_{f.name}")
            else:
                value = f"_default_{f.name}"
            seen_default = True
        elif f.init:
            if seen_default:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
            params.append(f.name)
        else:
            continue  # init=False without a default: not set by __init__
        if frozen:
            body.append(f"    __setattr(self, {f.name!r}, {value})")
        else:
            body.append(f"    self.{f.name} = {value}")
    if post_init:
        body.append("    self.__post_init__()")
    source = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "    pass")
    return source.replace("(self, )", "(self)"), namespace


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in type(self).__record_repr__)
    return f"{type(self).__qualname__}({shown})"


def _key(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name in type(self).__record_compare__)


def _eq(self: Any, other: object) -> Any:  # bool, or NotImplemented
    if other.__class__ is self.__class__:
        return _key(self) == _key(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(_key(self))


def _frozen_setattr(self: Any, name: str, value: object) -> None:
    if type(self) is self.__record_class__ or name in self.__record_names__:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")
    super(self.__record_class__, self).__setattr__(name, value)


def _frozen_delattr(self: Any, name: str) -> None:
    if type(self) is self.__record_class__ or name in self.__record_names__:
        raise FrozenInstanceError(f"cannot delete field {name!r}")
    super(self.__record_class__, self).__delattr__(name)


def _frozen_setstate(self: Any, state: object) -> None:
    """Unpickling (a Dask task's arguments): set the fields past the frozen ``__setattr__``.

    The default state of a slotted object is ``(dict or None, slots dict)``;
    :mod:`dataclasses` restores frozen instances the same way.
    """
    parts = state if isinstance(state, tuple) else (state,)
    for part in parts:
        for name, value in (part or {}).items():
            object.__setattr__(self, name, value)


class _DataclassFields:
    """``__dataclass_fields__``, made on first use (it imports :mod:`dataclasses`)."""

    def __get__(self, obj: object, owner: type) -> dict[str, Any]:
        import dataclasses

        real: dict[str, Any] = {}
        for f in owner.__dict__["__record_fields__"]:
            made: Any = dataclasses.field(
                default=dataclasses.MISSING if f.default is MISSING else f.default,
                default_factory=(
                    dataclasses.MISSING if f.default_factory is MISSING else f.default_factory
                ),
                init=f.init,
                repr=f.repr,
                compare=f.compare,
            )
            made.name, made.type = f.name, f.type
            made._field_type = dataclasses._FIELD  # type: ignore[attr-defined]  # as dataclasses sets it
            real[f.name] = made
        return real


def _process(
    cls: type[_T], init: bool, repr_: bool, eq: bool, frozen: bool, slots: bool
) -> type[_T]:
    found = _collect(cls)
    names = tuple(f.name for f in found)
    for f in found:  # class attributes keep plain defaults, as dataclasses does
        if f.name in cls.__dict__:
            if f.default is MISSING or slots:
                delattr(cls, f.name)
            else:
                setattr(cls, f.name, f.default)
    if slots:
        namespace = dict(cls.__dict__)
        namespace["__slots__"] = names
        namespace.pop("__dict__", None)
        namespace.pop("__weakref__", None)
        qualname = cls.__qualname__
        metaclass: Any = type(cls)
        cls = metaclass(cls.__name__, cls.__bases__, namespace)
        cls.__qualname__ = qualname
    attributes: dict[str, Any] = {
        "__record_fields__": tuple(found),
        "__record_names__": frozenset(names),
        "__record_repr__": tuple(f.name for f in found if f.repr),
        "__record_compare__": tuple(f.name for f in found if f.compare),
        "__record_class__": cls,
        "__dataclass_fields__": _DataclassFields(),
        "__match_args__": tuple(f.name for f in found if f.init),
    }
    if init:
        source, globals_ = _init_source(found, frozen, "__post_init__" in cls.__dict__)
        local: dict[str, Any] = {}
        exec(_compiled(source), globals_, local)  # runs the def: no compile when cached
        function = local["__init__"]
        function.__qualname__ = f"{cls.__qualname__}.__init__"
        function.__module__ = cls.__module__
        attributes["__init__"] = function
    if repr_ and "__repr__" not in cls.__dict__:
        attributes["__repr__"] = _repr
    if eq and "__eq__" not in cls.__dict__:
        attributes["__eq__"] = _eq
        if "__hash__" not in cls.__dict__ or cls.__dict__["__hash__"] is None:
            # dataclasses' rule: frozen and eq -> hashable by the fields; eq alone -> unhashable.
            attributes["__hash__"] = _hash if frozen else None
    if frozen:
        attributes["__setattr__"] = _frozen_setattr
        attributes["__delattr__"] = _frozen_delattr
        if "__setstate__" not in cls.__dict__:
            attributes["__setstate__"] = _frozen_setstate
    for name, value in attributes.items():
        setattr(cls, name, value)
    return cls
