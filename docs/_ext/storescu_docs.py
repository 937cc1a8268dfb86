"""Sphinx directives that write reference tables from the code, so they cannot drift.

* ``storescu-options`` / ``storescu-scp-options``: every option of the sender's
  option table and of the SCP's parser, as ``.. option::`` entries (so
  ``{option}`` references to a removed option fail the nitpicky build), with
  where each comes from (:mod:`storescu.cli.docgen`).
* ``conformance-sop-classes``: the SOP classes proposed by default (the
  built-in list) and Verification.
* ``conformance-proposals``: what each ``-x?`` option proposes.
* ``conformance-scp-syntaxes``: the transfer syntaxes the SCP accepts.
* ``conformance-tls-profiles``: the TLS secure transport connection profiles.
* ``exit-codes``: the ``--help`` text of the exit codes, as a table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import groupby

from docutils import nodes
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.docutils import SphinxDirective

from storescu.cli.docgen import OptionDoc


def _literal(text: str) -> str:
    return "``" + text + "``" if text else ""


def _escape(text: str) -> str:
    # reST inline markup characters that appear in help texts.
    return re.sub(r"([*`|_\\])", r"\\\1", text)


def _list_table(header: Sequence[str], rows: Iterable[Sequence[str]], widths: str) -> list[str]:
    lines = [".. list-table::", "   :header-rows: 1", f"   :widths: {widths}", ""]
    for row in [header, *rows]:
        first, *rest = row
        lines.append(f"   * - {first}")
        lines += [f"     - {cell}" for cell in rest]
    return [*lines, ""]


class _Generated(SphinxDirective):
    has_content = False

    def lines(self) -> list[str]:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        container = nodes.container()
        self.state.nested_parse(StringList(self.lines(), source="<generated>"), 0, container)
        return container.children


def _origin_line(option: OptionDoc) -> str:
    from storescu.cli.docgen import DCMSEND, DCMTK, DCMTK_37, OURS

    origin, note = option.origin, option.note
    text = {
        DCMTK: "DCMTK: same spelling",
        "DCMTK storescp": "DCMTK storescp: same spelling",
        DCMTK_37: "DCMTK 3.7 storescu: same spelling (not in 3.6.7)",
        DCMSEND: "DCMTK dcmsend: same spelling (not in DCMTK storescu)",
        OURS: "Ours: not in DCMTK",
    }[origin]
    if note:
        text += "; " + ("differs: " if origin in (DCMTK, DCMTK_37) else "") + note
    return _escape(text) + "."


def _option_entries(program: str, options: Sequence[OptionDoc]) -> list[str]:
    lines = [f".. program:: {program}", ""]
    for (group, subgroup), rows in groupby(options, lambda o: (o.group, o.subgroup)):
        title = group + (f": {subgroup}" if subgroup else "")
        lines += [f".. rubric:: {_escape(title[0].upper() + title[1:])}", ""]
        for option in rows:
            args = " ".join(option.args)
            signature = ", ".join(f"{s} {args}".strip() for s in option.spellings)
            lines += [f".. option:: {signature}", ""]
            lines.append("   " + _escape(option.help))
            if option.arg_help:
                lines += ["", "   " + _literal(option.arg_help)]
            if option.pending:
                lines += ["", f"   Not supported yet ({option.pending}): refused."]
            lines += ["", "   " + _origin_line(option), ""]
    return lines


class SenderOptions(_Generated):
    def lines(self) -> list[str]:
        from storescu.cli.docgen import sender_options

        return _option_entries("storescu", sender_options())


class ScpOptions(_Generated):
    def lines(self) -> list[str]:
        from storescu.cli.docgen import scp_operands, scp_options

        lines = [".. rubric:: Parameters", ""]
        for name, text in scp_operands():
            lines += [f"``{name}``", f"   {_escape(text)}", ""]
        return lines + _option_entries("storescu-scp", scp_options())


class SopClasses(_Generated):
    def lines(self) -> list[str]:
        from storescu.kernel.constants import (
            STORAGE_SOP_CLASSES,
            VERIFICATION_SOP_CLASS,
            modality_of,
        )

        rows = [("Verification", _literal(VERIFICATION_SOP_CLASS), "")]
        rows += [(name, _literal(uid), modality_of(uid)) for uid, name in STORAGE_SOP_CLASSES]
        return _list_table(("SOP class", "UID", "shown as"), rows, "50 40 10")


class Proposals(_Generated):
    def lines(self) -> list[str]:
        from storescu.kernel.constants import transfer_syntax_name
        from storescu.kernel.syntaxes import PROPOSAL_MODES, fallback_for

        rows = []
        for mode, (short, uid) in PROPOSAL_MODES.items():
            fallback = ", ".join(_literal(ts) for ts in fallback_for(mode)) or "none"
            name = transfer_syntax_name(uid)
            rows.append(
                (
                    f":option:`{short} <storescu --propose-{mode}>`",
                    _literal(uid),
                    _escape(name if name != uid else "(video)"),
                    fallback,
                )
            )
        return _list_table(
            ("option", "preferred transfer syntax", "name", "second context (fallback)"),
            rows,
            "12 30 28 30",
        )


class ScpSyntaxes(_Generated):
    def lines(self) -> list[str]:
        from storescu.kernel.constants import transfer_syntax_name
        from storescu.scp.server import ACCEPTED_SYNTAXES

        def key(uid: str) -> tuple[int, ...]:
            return tuple(int(part) for part in uid.split("."))

        rows = [
            (_literal(uid), _escape(transfer_syntax_name(uid)))
            for uid in sorted(ACCEPTED_SYNTAXES, key=key)
        ]
        return _list_table(("transfer syntax UID", "name"), rows, "40 60")


class TlsProfiles(_Generated):
    def lines(self) -> list[str]:
        from storescu.net.tls import DEFAULT_PROFILE, PROFILES

        rows = []
        for name, profile in PROFILES.items():
            versions = "TLS 1.2, 1.3" if profile.tls13 else "TLS 1.2"
            status = "default" if name == DEFAULT_PROFILE else ""
            status = "retired" if profile.retired else status
            rows.append(
                (
                    f":option:`{profile.option} <storescu {profile.option}>`",
                    _escape(profile.title) + (f" ({status})" if status else ""),
                    profile.section,
                    versions,
                    ", ".join(_literal(suite) for suite in profile.tls12_suites),
                )
            )
        return _list_table(
            ("option", "profile", "defined in", "versions", "TLS 1.2 cipher suites"),
            rows,
            "8 22 12 10 48",
        )


class ExitCodes(_Generated):
    def lines(self) -> list[str]:
        from storescu.cli.exitcodes import EXIT_CODES_TEXT

        rows: list[list[str]] = []
        for line in EXIT_CODES_TEXT.splitlines()[1:]:
            match = re.match(r"  (\S+)\s+(.*)", line)
            if match and not line.startswith("        "):
                rows.append([_literal(match.group(1)), _escape(match.group(2))])
            else:
                rows[-1][1] += " " + _escape(line.strip())
        return _list_table(("code", "meaning"), rows, "10 90")


def _resolve_exports(
    app: Sphinx, env: BuildEnvironment, node: addnodes.pending_xref, contnode: nodes.Element
) -> nodes.Element | None:
    """Resolve the names ``storescu`` exports, and unqualified names documented once.

    ``storescu.StoreSCP`` (and the other re-exports) mean the object documented
    in its module; a bare ``AssociationSettings`` in a docstring's type field
    means the one object of that name, wherever it is documented.
    """
    import storescu

    if node.get("refdomain") != "py":
        return None
    target = str(node.get("reftarget", ""))
    parts = target.split(".")
    domain = env.get_domain("py")
    if len(parts) >= 2 and parts[0] == "storescu" and parts[1] in storescu._EXPORTS:
        exported = getattr(storescu, parts[1])
        module = getattr(exported, "__module__", storescu._EXPORTS[parts[1]])
        target = ".".join([module, *parts[1:]])
    else:
        matches = domain.find_obj(env, "", "", parts[-1], None, 1)  # type: ignore[attr-defined]
        exact = [name for name, _ in matches if name.split(".")[-1] == parts[-1]]
        if len(exact) != 1:
            return None
        target = exact[0]
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], target, node, contnode
    )


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("missing-reference", _resolve_exports)
    app.add_directive("storescu-options", SenderOptions)
    app.add_directive("storescu-scp-options", ScpOptions)
    app.add_directive("conformance-sop-classes", SopClasses)
    app.add_directive("conformance-proposals", Proposals)
    app.add_directive("conformance-scp-syntaxes", ScpSyntaxes)
    app.add_directive("conformance-tls-profiles", TlsProfiles)
    app.add_directive("exit-codes", ExitCodes)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
