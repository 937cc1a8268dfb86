"""The shared kernel: what every layer may import, and which imports nothing of the package.

:mod:`~storescu.kernel.errors` (the exception tree), :mod:`~storescu.kernel.constants`
(UIDs, the built-in SOP class list, protocol limits), :mod:`~storescu.kernel.syntaxes`
(transfer syntaxes: what each is and which option proposes it; the protocol's
negotiation and the dataset layer both need them, so they live here),
:mod:`~storescu.kernel.records` (a fast ``@dataclass``) and
:mod:`~storescu.kernel.version`. No socket, no pydicom.
"""
