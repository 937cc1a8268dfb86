"""Drivers that own sockets and the clock: TCP, TLS, and the SCU association.

:mod:`~storescu.net.transport` (blocking TCP/TLS with scatter-gather sends and
timeouts), :mod:`~storescu.net.tls` (PS3.15 Annex B profiles on :mod:`ssl`) and
:mod:`~storescu.net.client` (:class:`~storescu.net.client.StoreAssociation`: the
sans-IO core driven over a socket; PS3.8 ARTIM and PS3.7 DIMSE timeouts).

Imports :mod:`storescu.protocol` and :mod:`storescu.kernel`; never the dataset layer
(what it sends is any object with ``readinto``).
"""
