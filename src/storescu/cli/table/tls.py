"""TLS options (PS3.15 Annex B): DCMTK's, with 3.7's profiles and SNI, and ``--check-hostname``.

Every row here but ``-tls``, ``+tls`` and ``+tla`` needs TLS switched on
(:func:`storescu.cli.rules.check_tls`); :mod:`storescu.cli.tlsopts` turns the
parsed values into :class:`storescu.net.tls.TlsOptions`.
"""

from __future__ import annotations

from typing import Final

from storescu.cli.spec import TLS_GROUP, OptionSpec, in_group

_O = OptionSpec

ROWS: Final[tuple[OptionSpec, ...]] = (
    *in_group(
        TLS_GROUP,
        "transport protocol stack",
        _O("-tls", "--disable-tls", "plain TCP (default)", "tls", "off"),
        _O(
            "+tls",
            "--enable-tls",
            "TLS, authenticated with KEY and CERT",
            "tls",
            args=("KEY", "CERT"),
            arg_help="KEY CERT: private key and certificate files",
        ),
        _O("+tla", "--anonymous-tls", "TLS without a client certificate", "tls", "anonymous"),
    ),
    *in_group(
        TLS_GROUP,
        "private key password (only with +tls)",
        _O(
            "+ps",
            "--std-passwd",
            "ask on the terminal if the key is encrypted\n(default; fails at once without one)",
            "tls_password",
            None,
        ),
        _O(
            "+pw",
            "--use-passwd",
            "use PASSWORD",
            "tls_password",
            args=("PASSWORD",),
            arg_help="PASSWORD: string",
        ),
        _O("-pw", "--null-passwd", "use an empty password", "tls_password", ""),
    ),
    *in_group(
        TLS_GROUP,
        "key and certificate file format",
        _O("-pem", "--pem-keys", "PEM files (default)", "tls_der", False),
        _O("-der", "--der-keys", "DER files (key, certificates, CAs, CRLs)", "tls_der"),
    ),
    *in_group(
        TLS_GROUP,
        "certification authority",
        _O(
            "+cf",
            "--add-cert-file",
            "trust the certificate in FILE (repeatable)",
            "tls_ca_files",
            args=("FILE",),
            arg_help="FILE: certificate file",
            multiple=True,
        ),
        _O(
            "+cd",
            "--add-cert-dir",
            "trust the certificates in DIR (repeatable)",
            "tls_ca_dirs",
            args=("DIR",),
            arg_help="DIR: hashed directory (openssl rehash DIR)",
            multiple=True,
        ),
        _O(
            "+crl",
            "--add-crl-file",
            "add a revocation list (implies +crv)",
            "tls_crl_files",
            args=("FILE",),
            arg_help="FILE: CRL file",
            multiple=True,
        ),
        _O(
            "+crv", "--enable-crl-vfy", "check the peer certificate against CRLs", "tls_crl", "leaf"
        ),
        _O("+cra", "--enable-crl-all", "check the whole chain against CRLs", "tls_crl", "all"),
    ),
    *in_group(
        TLS_GROUP,
        "security profile",
        _O("+ph", "--list-profiles", "list the security profiles and exit"),
        _O("+pg", "--profile-8996", "BCP 195 RFC 8996 (default)", "tls_profile", "8996"),
        _O("+pm", "--profile-8996-mod", "modified BCP 195 RFC 8996", "tls_profile", "8996-mod"),
        _O(
            "+py",
            "--profile-bcp195-nd",
            "non-downgrading BCP 195 (retired; DCMTK\n3.6.7 default)",
            "tls_profile",
            "bcp195-nd",
        ),
        _O("+px", "--profile-bcp195", "BCP 195 (retired)", "tls_profile", "bcp195"),
        _O(
            "+pz",
            "--profile-bcp195-ex",
            "extended BCP 195, TLS 1.2 only (retired)",
            "tls_profile",
            "bcp195-ex",
        ),
        _O(
            "+pb",
            "--profile-basic",
            "basic, 3DES (retired; fails: OpenSSL 3\nhas no 3DES)",
            "tls_profile",
            "basic",
        ),
        _O("+pa", "--profile-aes", "AES (retired)", "tls_profile", "aes"),
        _O(
            "+pn",
            "--profile-null",
            "authenticated, unencrypted (retired)",
            "tls_profile",
            "null",
        ),
    ),
    *in_group(
        TLS_GROUP,
        "ciphersuite",
        _O("+cc", "--list-ciphers", "list the supported ciphersuites and exit"),
        _O(
            "+cs",
            "--cipher",
            "also offer ciphersuite NAME (TLS <= 1.2;\nnot with +pz or +pm; repeatable)",
            "tls_cipher_suites",
            args=("NAME",),
            arg_help="NAME: IANA (as +cc lists) or OpenSSL name",
            multiple=True,
        ),
        _O(
            "+dp",
            "--dhparam",
            "accepted and ignored: DH parameters are\nthe server's choice (DCMTK 3.6.4\nremoved "
            "it from storescu)",
            "tls_dhparam",
            args=("FILE",),
            arg_help="FILE: DH parameter file",
        ),
    ),
    *in_group(
        TLS_GROUP,
        "server name indication",
        _O(None, "--no-sni", "send no server name (default)", "tls_sni", None),
        _O(
            None,
            "--request-sni",
            "send server name NAME (SNI)",
            "tls_sni",
            args=("NAME",),
            arg_help="NAME: host name",
            conflicts=("--no-sni",),
        ),
    ),
    *in_group(
        TLS_GROUP,
        "pseudo random generator (added to OpenSSL 3's own seeding)",
        _O(
            "+rs",
            "--seed",
            "mix FILE into the generator",
            "tls_seed_file",
            args=("FILE",),
            arg_help="FILE: seed file",
        ),
        _O(
            "+ws",
            "--write-seed",
            "write fresh random bytes back (with +rs)",
            "tls_write_seed_file",
        ),
        _O(
            "+wf",
            "--write-seed-file",
            "write fresh random bytes to FILE (with +rs)",
            "tls_write_seed_file",
            args=("FILE",),
            arg_help="FILE: seed file",
        ),
    ),
    *in_group(
        TLS_GROUP,
        "peer authentication",
        _O(
            "-rc",
            "--require-peer-cert",
            "verify the peer certificate (default)",
            "tls_verify_peer",
            "require",
        ),
        _O(
            "-vc",
            "--verify-peer-cert",
            "as -rc: a TLS server always sends a\ncertificate (DCMTK 3.6.4 removed it\n"
            "from storescu)",
            "tls_verify_peer",
            "verify",
        ),
        _O(
            "-ic",
            "--ignore-peer-cert",
            "do not verify the peer certificate",
            "tls_verify_peer",
            "ignore",
        ),
        _O(
            None,
            "--check-hostname",
            "also require that the server certificate\nmatches the host name (or the SNI name;\n"
            "not in DCMTK)",
            "tls_check_hostname",
        ),
    ),
)
