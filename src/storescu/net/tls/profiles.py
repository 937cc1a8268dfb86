"""DICOM secure transport connection profiles (PS3.15 Annex B) and their cipher suites.

Theory of operation
-------------------
:data:`PROFILES` is DCMTK 3.7's table of profiles (``+pg`` ... ``+pn``) as data:
each names its TLS <= 1.2 cipher suites (IANA names, keys of
:data:`CIPHER_SUITES`) and whether TLS 1.3 may be negotiated.
:func:`apply_profile` puts one onto an :class:`ssl.SSLContext`, with the extra
suites of ``+cs`` checked against the profile's rules; :func:`profiles_text` and
:func:`ciphers_text` are the listings of ``+ph`` and ``+cc``.

* A security profile sets the minimum and maximum TLS version and the TLS <= 1.2
  cipher list. TLS 1.3 suites cannot be restricted from Python; OpenSSL's defaults
  (AES-GCM and ChaCha20) are within every profile that allows TLS 1.3.
* TLS 1.0 and 1.1 are never offered: RFC 8996 deprecates them, and OpenSSL 3 at its
  default security level cannot complete them anyway.
* Only the suites this OpenSSL can negotiate at all are used
  (:func:`available_cipher_suites`); a profile none of whose suites is left fails
  with a :class:`~storescu.kernel.errors.TlsError` before any connection.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from storescu.kernel.errors import TlsError

log = logging.getLogger("storescu")

__all__ = [
    "CIPHER_SUITES",
    "DEFAULT_PROFILE",
    "PROFILES",
    "Profile",
    "apply_profile",
    "available_cipher_suites",
    "ciphers_text",
    "profiles_text",
]


@dataclass(frozen=True)
class Profile:
    """One DICOM secure transport connection profile, as DCMTK implements it.

    ``tls12_suites`` are IANA names (keys of :data:`CIPHER_SUITES`) for TLS <= 1.2;
    ``tls13`` says whether TLS 1.3 may be negotiated; ``extra_suites`` whether
    ``+cs`` may add suites.
    """

    name: str
    option: str
    title: str
    section: str
    tls12_suites: tuple[str, ...]
    tls13: bool = True
    extra_suites: bool = True
    retired: bool = True
    note: str = ""


_GCM_RSA: Final = (
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
)

#: Profile name (DCMTK's ``--profile-NAME``) -> profile, in DCMTK 3.7's order.
PROFILES: Final[dict[str, Profile]] = {
    p.name: p
    for p in (
        # PS3.15 B.12: RFC 9325 (BCP 195, 2022) recommended suites, TLS >= 1.2.
        Profile(
            "8996",
            "+pg",
            "BCP 195 RFC 8996 TLS Profile",
            "PS3.15 B.12",
            (
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            ),
            retired=False,
            note="default",
        ),
        # PS3.15 B.13: a fixed list; Camellia-GCM is left out (OpenSSL has none).
        Profile(
            "8996-mod",
            "+pm",
            "Modified BCP 195 RFC 8996 TLS Profile",
            "PS3.15 B.13",
            (
                "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
                "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
                "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            ),
            extra_suites=False,
            retired=False,
        ),
        Profile(
            "bcp195-nd",
            "+py",
            "Non-downgrading BCP 195 TLS Profile",
            "PS3.15 B.10",
            _GCM_RSA,
            note="DCMTK 3.6.7's default",
        ),
        Profile(
            "bcp195",
            "+px",
            "BCP 195 TLS Profile",
            "PS3.15 B.9",
            (*_GCM_RSA, "TLS_RSA_WITH_AES_128_CBC_SHA"),
        ),
        Profile(
            "bcp195-ex",
            "+pz",
            "Extended BCP 195 TLS Profile",
            "PS3.15 B.11",
            (
                *_GCM_RSA,
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            ),
            tls13=False,
            extra_suites=False,
        ),
        Profile(
            "basic",
            "+pb",
            "Basic TLS Secure Transport Connection Profile",
            "PS3.15 B.1",
            ("TLS_RSA_WITH_3DES_EDE_CBC_SHA",),
            tls13=False,
        ),
        Profile(
            "aes",
            "+pa",
            "AES TLS Secure Transport Connection Profile",
            "PS3.15 B.3",
            ("TLS_RSA_WITH_AES_128_CBC_SHA",),
            tls13=False,
        ),
        Profile(
            "null",
            "+pn",
            "Authenticated unencrypted communication",
            "IHE ATNA",
            ("TLS_RSA_WITH_NULL_SHA",),
            tls13=False,
            note="no encryption",
        ),
    )
}
DEFAULT_PROFILE: Final = "8996"

#: IANA cipher suite name (DCMTK's ``+cs`` names) -> OpenSSL name, for the TLS <= 1.2
#: suites DCMTK knows and OpenSSL 3 still implements (static ECDH is gone).
CIPHER_SUITES: Final[dict[str, str]] = {
    "TLS_RSA_WITH_NULL_SHA": "NULL-SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA": "DES-CBC3-SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
    "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA": "CAMELLIA128-SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256": "AES128-SHA256",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA": "CAMELLIA256-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA256": "AES256-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256": "ECDHE-ECDSA-AES128-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256": "ECDHE-RSA-AES128-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM": "ECDHE-ECDSA-AES128-CCM",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8": "ECDHE-ECDSA-AES128-CCM8",
    "TLS_DHE_DSS_WITH_AES_128_CBC_SHA": "DHE-DSS-AES128-SHA",
    "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA": "DHE-DSS-CAMELLIA128-SHA",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA": "DHE-RSA-AES128-SHA",
    "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA": "DHE-RSA-CAMELLIA128-SHA",
    "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256": "DHE-DSS-AES128-SHA256",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256": "DHE-RSA-AES128-SHA256",
    "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256": "DHE-DSS-AES128-GCM-SHA256",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256": "DHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384": "ECDHE-ECDSA-AES256-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384": "ECDHE-RSA-AES256-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM": "ECDHE-ECDSA-AES256-CCM",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8": "ECDHE-ECDSA-AES256-CCM8",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_DHE_DSS_WITH_AES_256_CBC_SHA": "DHE-DSS-AES256-SHA",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA": "DHE-RSA-AES256-SHA",
    "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA": "DHE-DSS-CAMELLIA256-SHA",
    "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA": "DHE-RSA-CAMELLIA256-SHA",
    "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256": "DHE-DSS-AES256-SHA256",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256": "DHE-RSA-AES256-SHA256",
    "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "DHE-RSA-CHACHA20-POLY1305",
    "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384": "DHE-DSS-AES256-GCM-SHA384",
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384": "DHE-RSA-AES256-GCM-SHA384",
}
_OPENSSL_TO_IANA: Final = {v: k for k, v in CIPHER_SUITES.items()}

#: TLS 1.3 suites OpenSSL negotiates by default (not selectable from Python).
_TLS13_SUITES: Final = (
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_GCM_SHA256",
)


# ------------------------------------------------------------- on a context


def apply_profile(ctx: ssl.SSLContext, profile: Profile, extra: tuple[str, ...]) -> None:
    """Set ``ctx``'s TLS versions and TLS <= 1.2 cipher list from ``profile``.

    ``extra`` are the ``+cs`` suites (IANA or OpenSSL names), added when the
    profile allows them.

    Raises
    ------
    TlsError
        The profile's suites or an extra suite are not available or not allowed.
    """
    available = available_cipher_suites()
    if profile.name == "basic" and CIPHER_SUITES["TLS_RSA_WITH_3DES_EDE_CBC_SHA"] not in available:
        raise TlsError(
            f"profile +pb ({profile.title}, retired) needs TLS_RSA_WITH_3DES_EDE_CBC_SHA: "
            f"3DES is not available in {ssl.OPENSSL_VERSION}; use the default +pg"
        )
    if extra and not profile.extra_suites:
        raise TlsError(f"+cs is not allowed with profile {profile.option} ({profile.title})")
    names = [CIPHER_SUITES[s] for s in profile.tls12_suites if CIPHER_SUITES[s] in available]
    for suite in extra:
        openssl_name = _check_extra_suite(suite, profile, available)
        if openssl_name not in names:
            names.append(openssl_name)
    # PS3.15 B.12/B.13 and RFC 8996: TLS 1.2 at least, for every profile (see the
    # module docstring); TLS 1.3 only where the profile allows it.
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3 if profile.tls13 else ssl.TLSVersion.TLSv1_2
    cipher_string = ":".join(names)
    if profile.name == "null" or any(n.startswith("NULL") for n in names):
        # Security level 0 is the only one that lets OpenSSL pick a NULL cipher.
        cipher_string += ":@SECLEVEL=0"
        log.warning("TLS profile %s: the data is sent without encryption", profile.option)
    try:
        ctx.set_ciphers(cipher_string)
    except ssl.SSLError as exc:
        raise TlsError(f"no cipher suite of profile {profile.option} is available") from exc


def _check_extra_suite(suite: str, profile: Profile, available: frozenset[str]) -> str:
    """Return the OpenSSL name of a ``+cs`` suite, or raise when it cannot be used."""
    if suite in CIPHER_SUITES:
        iana, openssl_name = suite, CIPHER_SUITES[suite]
    elif suite in _OPENSSL_TO_IANA:
        iana, openssl_name = _OPENSSL_TO_IANA[suite], suite
    elif suite in _TLS13_SUITES or suite.startswith("TLS_AES_"):
        raise TlsError(
            f"+cs {suite}: TLS 1.3 cipher suites cannot be chosen (OpenSSL's defaults are used)"
        )
    else:
        raise TlsError(f"+cs {suite}: unknown cipher suite (+cc lists the supported ones)")
    if openssl_name not in available:
        raise TlsError(f"+cs {suite}: not available in {ssl.OPENSSL_VERSION}")
    encrypted = "NULL" not in iana
    if not encrypted and profile.name != "null":
        raise TlsError(
            f"+cs {suite}: an unencrypted cipher suite is not allowed with profile {profile.option}"
        )
    if profile.name == "8996" and iana.endswith("_SHA"):
        raise TlsError(
            f"+cs {suite}: cipher suites with a SHA-1 MAC are not allowed with profile +pg "
            "(RFC 9325)"
        )
    if iana.startswith("TLS_RSA_"):
        log.warning("cipher suite %s uses RSA key transport (RFC 9325: should not be used)", iana)
    return openssl_name


@lru_cache(maxsize=1)
def available_cipher_suites() -> frozenset[str]:
    """OpenSSL names of the TLS <= 1.2 suites this OpenSSL can negotiate at all."""
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    probe.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    return frozenset(str(c["name"]) for c in probe.get_ciphers() if c.get("protocol") != "TLSv1.3")


# ------------------------------------------------------------------ listings


def profiles_text() -> str:
    """``+ph``: the security profiles, their TLS versions and cipher suites."""
    available = available_cipher_suites()
    lines = ["Supported TLS security profiles (PS3.15 Annex B):", ""]
    for profile in PROFILES.values():
        state = "retired" if profile.retired else "current"
        note = f", {profile.note}" if profile.note else ""
        versions = "TLS 1.2 and 1.3" if profile.tls13 else "TLS 1.2 only"
        lines.append(f"  {profile.option}  {profile.title} ({profile.section}, {state}{note})")
        usable = [s for s in profile.tls12_suites if CIPHER_SUITES[s] in available]
        if not usable:
            lines.append("        not available: OpenSSL lacks its cipher suites")
            continue
        lines.append(f"        {versions}; TLS 1.2 suites:")
        lines += [f"          {s}" for s in profile.tls12_suites if CIPHER_SUITES[s] in available]
        missing = [s for s in profile.tls12_suites if CIPHER_SUITES[s] not in available]
        lines += [f"          ({s}: not in this OpenSSL)" for s in missing]
    lines += [
        "",
        "TLS 1.3 suites are OpenSSL's defaults: " + ", ".join(_TLS13_SUITES) + ".",
        "TLS 1.0 and 1.1 are never offered (RFC 8996).",
    ]
    return "\n".join(lines) + "\n"


def ciphers_text() -> str:
    """``+cc``: the cipher suites ``+cs`` accepts here (IANA name, OpenSSL name)."""
    available = available_cipher_suites()
    lines = ["Supported TLS ciphersuites are:"]
    width = max(len(n) for n in CIPHER_SUITES)
    for iana, openssl_name in CIPHER_SUITES.items():
        if openssl_name in available:
            lines.append(f"  {iana.ljust(width)}  {openssl_name}")
    lines.append("TLS 1.3 (always offered with TLS 1.3, not selectable):")
    lines += [f"  {name}" for name in _TLS13_SUITES]
    return "\n".join(lines) + "\n"
