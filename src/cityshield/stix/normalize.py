"""Per-type normalisation of IOC values, so that one real-world IOC gets one value.

Cities write the same indicator differently: defanged (``evil[.]example``), in another
case, with a trailing dot, a default port, ``/32``, upper-case hashes... Each function
here maps the surface variants of one observable type to one canonical spelling.

Every function is

* total on strings -- anything it cannot interpret is returned stripped (and refanged),
  never an exception, except :func:`normalize_hash` which raises ``ValueError`` for a
  hash of the wrong length (that indicator is broken, not merely spelt differently);
* idempotent -- ``f(f(x)) == f(x)``, so a canonical pattern re-canonicalises to itself;
* conservative -- it only merges spellings that denote the same thing. Where that is
  ambiguous (IPv4 with leading zeros: octal or decimal?) the value is left alone, since a
  missed merge costs a duplicate while a wrong merge corrupts what cities receive.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re

import idna

__all__ = [
    "hash_algorithm",
    "normalize_domain",
    "normalize_email",
    "normalize_hash",
    "normalize_ipv4",
    "normalize_ipv6",
    "normalize_url",
    "normalize_value",
    "refang",
    "refang_all",
    "to_a_labels",
]

# ----------------------------------------------------------------------- refanging

_DOT_RE = re.compile(r"\s*(?:\[\.\]|\(\.\)|\{\.\}|[\[({]dot[\])}])\s*", re.IGNORECASE)
_AT_RE = re.compile(r"\s*(?:\[@\]|\(@\)|\{@\}|[\[({]at[\])}])\s*", re.IGNORECASE)
_SPACED_DOT_RE = re.compile(r"\s*\.\s*")
_COLON_RE = re.compile(r"\[:\]")
_URL_FANGS = (
    (re.compile(r"\[://\]"), "://"),
    (_COLON_RE, ":"),
    (re.compile(r"^(?:hxxp|h\*\*p)(s?)(?=:)", re.IGNORECASE), r"http\1"),
    (re.compile(r"^fxp(?=s?:)", re.IGNORECASE), "ftp"),
)


def _fixpoint(value: str, rules: tuple[tuple[re.Pattern[str], str], ...]) -> str:
    """Apply substitutions until nothing changes.

    One pass is not idempotent: ``[[.]]`` refangs to ``[.]``, which refangs again.
    Substitutions never lengthen the string and the same-length ones (``hxxp`` ->
    ``http``) cannot fire twice, so this terminates.
    """
    while True:
        before = value
        for regex, replacement in rules:
            value = regex.sub(replacement, value)
        if value == before:
            return value


def refang(value: str) -> str:
    """Undo dot defanging: ``[.]``, ``(.)``, ``{.}``, ``[dot]`` (any case) -> ``.``.

    Shared by every network type; the type-specific functions add their own forms.
    """
    return _fixpoint(value, ((_DOT_RE, "."),))


def refang_all(value: str) -> str:
    """Undo every defang this module knows (dots, ``[@]``/``[at]``, ``[:]``, ``[://]``,
    ``hxxp``/``fxp``), stripped, and nothing else: for text whose type is not known yet
    (an analyst's pasted value, a search prefix), where the type's own normaliser would
    also rewrite what a prefix must keep as typed."""
    return _fixpoint(value.strip(), ((_DOT_RE, "."), (_AT_RE, "@"), *_URL_FANGS)).strip()


# -------------------------------------------------------------------------- IPs


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CANONICAL_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}", re.ASCII)
"""A dotted quad as ``str(IPv4Address)`` writes it: no leading zeros, no defang, no space."""


def normalize_ipv4(value: str) -> str:
    """Refanged dotted-quad; ``/32`` -> the host; other CIDR -> network/prefix.

    ``198.51.100.7/24`` becomes ``198.51.100.0/24``: a CIDR indicator names the network,
    whichever host a city happened to write. Leading zeros (``010.0.0.1``) are left as
    written: inet_aton reads them as octal, most tools as decimal, and the stdlib
    ``ipaddress`` refuses them for that reason -- guessing could merge two different
    IOCs. Spaces around dots (``1 . 2 . 3 . 4``) are a defang too.
    """
    if _CANONICAL_IPV4.fullmatch(value):
        return value  # already what the rest would return; skips ~20 us of parsing
    text = _fixpoint(value, ((_DOT_RE, "."), (_SPACED_DOT_RE, "."))).strip()
    try:
        if "/" in text:
            net = ipaddress.IPv4Network(text, strict=False)
            return str(net.network_address) if net.prefixlen == 32 else str(net)
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        return text


def normalize_ipv6(value: str) -> str:
    """Compressed lower-case form (RFC 5952); ``/128`` -> the host; CIDR -> network.

    ``2001:DB8:0:0::1``, ``2001:db8::0001`` and ``[2001:db8::1]`` are one address.
    """
    text = _fixpoint(value, ((_DOT_RE, "."), (_COLON_RE, ":"))).strip()
    bare = text[1:-1] if text[:1] == "[" and text[-1:] == "]" else text
    try:
        if "/" in bare:
            net = ipaddress.IPv6Network(bare, strict=False)
            return net.network_address.compressed if net.prefixlen == 128 else net.compressed
        return ipaddress.IPv6Address(bare).compressed
    except ValueError:
        return text


# ---------------------------------------------------------------- domains, e-mail


def to_a_labels(name: str) -> str:
    """The IDNA (UTS 46) ASCII form of a DNS name; ``ValueError`` with IDNA's reason when
    it has none. One IDNA configuration for dedup and for ingest validation."""
    return idna.encode(name, uts46=True).decode("ascii")


def _host(name: str) -> str:
    """Lower-case, IDNA (UTS 46) to the ASCII A-label form, drop the root dot.

    ``Bücher.Example.`` and ``xn--bcher-kva.example`` are the same DNS name. One
    trailing dot is the root label (UTS 46 also maps ``。`` to it). Names IDNA refuses
    (underscores, empty or over-long labels) are just lower-cased.
    """
    name = name.lower()
    # For an all-ASCII name UTS 46 either refuses it or returns it unchanged once
    # lower-cased (checked over 200,000 random ASCII names, xn-- labels included), so the
    # costly call is only made for names it can change.
    if not name.isascii():
        with contextlib.suppress(ValueError):  # idna.IDNAError, UnicodeError are ValueErrors
            name = to_a_labels(name)
    return _without_root_dot(name)


def _without_root_dot(name: str) -> str:
    """``name`` without one trailing ``.``, unless what is left would change again.

    Dropping the dot must not expose anything a second pass rewrites, or a canonical
    pattern would not re-canonicalise to itself. So the dot stays (the name is invalid
    and left as written) when the rest ends in another dot (``example.com..``), in
    white space that callers strip (``example.com \t.``), or in a character UTS 46
    maps to a dot, which made IDNA refuse the name for its empty label
    (``bücher.example。.``: the rest alone would be accepted and encoded).
    """
    rest = name[:-1]
    if not name.endswith(".") or rest.endswith(".") or rest != rest.rstrip():
        return name
    if not rest.isascii():  # IDNA refused ``name``; would it accept the rest?
        try:
            to_a_labels(rest)
        except ValueError:
            return rest
        return name
    return rest


def normalize_domain(value: str) -> str:
    """Refanged, stripped, lower-case, without the root dot, IDNA A-labels."""
    return _host(refang(value).strip())


def normalize_email(value: str) -> str:
    """Refanged (``[@]``, ``[at]``, ``(at)``, ``[.]``), stripped, lower-case.

    The whole address is lower-cased: RFC 5321 lets a server treat the local part
    case-sensitively, but no mainstream provider does, and for dedup a missed merge
    (``Bob@x`` vs ``bob@x`` published twice) is the likelier error. The domain part
    also gets the IDNA treatment of :func:`normalize_domain`.
    """
    text = _fixpoint(value, ((_AT_RE, "@"), (_DOT_RE, "."))).strip().lower()
    local, at, domain = text.rpartition("@")
    return f"{local}@{_host(domain)}" if at else text


# ------------------------------------------------------------------------- URLs

# RFC 3986 appendix B, with the scheme syntax of section 3.1.
_URL_RE = re.compile(
    r"([A-Za-z][A-Za-z0-9+.-]*):(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#.*)?", re.DOTALL
)
_PCT_RE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_DEFAULT_PORTS = {"http": "80", "https": "443", "ftp": "21"}


def _pct(text: str) -> str:
    """RFC 3986 6.2.2.1-2: upper-case hex, decode percent-encoded unreserved chars."""

    def fix(m: re.Match[str]) -> str:
        char = chr(int(m.group(1), 16))
        return char if char in _UNRESERVED else "%" + m.group(1).upper()

    return _PCT_RE.sub(fix, text)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4, step by step (the output buffer is a list of segments)."""
    out: list[str] = []
    while path:
        if path.startswith("../"):
            path = path[3:]
        elif path.startswith(("./", "/./")):
            path = path[2:]
        elif path == "/.":
            path = "/"
        elif path.startswith("/../") or path == "/..":
            path = "/" + path[4:]
            if out:
                out.pop()
        elif path in (".", ".."):
            path = ""
        else:
            end = path.find("/", 1)
            end = len(path) if end == -1 else end
            out.append(path[:end])
            path = path[end:]
    return "".join(out)


def normalize_url(value: str) -> str:
    """RFC 3986 section 6 normal form of a refanged URL with an authority.

    Refang (``hxxp``/``hxxps``/``fxp``, ``[.]``, ``[:]``, ``[://]``); lower-case scheme;
    host as in :func:`normalize_domain` (IPv6 literals compressed); drop the default port
    (http 80, https 443, ftp 21) and an empty one; percent-encoding normalised (hex upper,
    unreserved decoded); dot segments removed; empty path -> ``/``; query kept verbatim
    but percent-normalised; fragment dropped (it never reaches the server, so it does not
    distinguish IOCs). ``http://evil.example:80/a/./b/../c`` -> ``http://evil.example/a/c``.

    No scheme, no ``//`` authority (``mailto:``, ``evil.example/x``) or an authority
    that does not split cleanly into host and port: the refanged, stripped text as is.
    Non-ASCII path characters are not percent-encoded (kept as written).
    """
    text = _fixpoint(value, ((_DOT_RE, "."), *_URL_FANGS)).strip()
    m = _URL_RE.fullmatch(text)
    if m is None or m.group(2) is None:
        return text
    scheme, authority, path, query = m.groups()
    scheme = scheme.lower()
    userinfo, at, hostport = authority.rpartition("@")
    if hostport.startswith("[") and "]" in hostport:
        end = hostport.index("]") + 1
        host, rest = hostport[:end], hostport[end:]
        if rest and not rest.startswith(":"):
            return text
        port = rest[1:]
        try:
            host = f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            host = host.lower()
    else:
        host, colon, port = hostport.rpartition(":")
        if not colon:
            host, port = hostport, ""
        if ":" in host:
            return text
        host = _pct(_host(_pct(host)))
    if port and not (port.isascii() and port.isdigit()):
        return text
    port = (port.lstrip("0") or "0") if port else ""  # not int(): no digit-count limit
    if port == _DEFAULT_PORTS.get(scheme):
        port = ""
    path = _remove_dot_segments(_pct(path)) or "/"
    return "".join(
        (
            f"{scheme}://",
            f"{_pct(userinfo)}@" if at else "",
            host,
            f":{port}" if port else "",
            path,
            f"?{_pct(query)}" if query is not None else "",
        )
    )


# ----------------------------------------------------------------------- hashes

_HASH_NAMES = {
    "MD5": "MD5",
    "SHA1": "SHA-1",
    "SHA224": "SHA-224",
    "SHA256": "SHA-256",
    "SHA384": "SHA-384",
    "SHA512": "SHA-512",
    "SHA3224": "SHA3-224",
    "SHA3256": "SHA3-256",
    "SHA3384": "SHA3-384",
    "SHA3512": "SHA3-512",
    "RIPEMD160": "RIPEMD-160",
    "WHIRLPOOL": "WHIRLPOOL",
    "SSDEEP": "SSDEEP",
    "TLSH": "TLSH",
}
_HEX_LENGTHS = {
    "MD5": 32,
    "SHA-1": 40,
    "SHA-224": 56,
    "SHA-256": 64,
    "SHA-384": 96,
    "SHA-512": 128,
    "SHA3-224": 56,
    "SHA3-256": 64,
    "SHA3-384": 96,
    "SHA3-512": 128,
    "RIPEMD-160": 40,
    "WHIRLPOOL": 128,
}
_HEX_RE = re.compile(r"[0-9a-fA-F]*")


def hash_algorithm(name: str) -> str:
    """The STIX hash-algorithm-ov spelling: ``SHA256``/``sha-256``/``sha_256`` -> ``SHA-256``.

    Names outside the known set (custom ones, ``imphash``...) are kept as written.
    """
    return _HASH_NAMES.get(re.sub(r"[-_ ]", "", name.upper()), name)


def normalize_hash(algorithm: str, value: str) -> str:
    """Lower-case hex with the length checked for the known fixed-size algorithms.

    A wrong length or a non-hex digit is a broken indicator, not a spelling variant:
    ``ValueError`` with the reason. SSDEEP, TLSH and unknown algorithms: stripped as is
    (SSDEEP is case-sensitive base64).
    """
    text = value.strip()
    length = _HEX_LENGTHS.get(algorithm)
    if length is None:
        return text
    if len(text) != length or not _HEX_RE.fullmatch(text):
        raise ValueError(
            f"{algorithm} hash must be {length} hex digits, got {len(text)} characters"
            + ("" if _HEX_RE.fullmatch(text) else " (not hex)")
        )
    return text.lower()


# ------------------------------------------------------------------- dispatch

_VALUE_NORMALIZERS = {
    ("ipv4-addr", "value"): normalize_ipv4,
    ("ipv6-addr", "value"): normalize_ipv6,
    ("domain-name", "value"): normalize_domain,
    ("url", "value"): normalize_url,
    ("email-addr", "value"): normalize_email,
}


def normalize_value(obj_type: str, path: tuple[str, ...], value: str) -> str:
    """Normalise the (unescaped) literal of ``obj_type:path = value``.

    ``path`` holds the unquoted property names with the hash algorithm already in
    :func:`hash_algorithm` form. A ``hashes`` entry of any type (file, artifact,
    x509-certificate...) is a hash; any other type/path is stripped and kept as is.
    """
    normalizer = _VALUE_NORMALIZERS.get((obj_type, path[0])) if len(path) == 1 else None
    if normalizer is not None:
        return normalizer(value)
    if len(path) >= 2 and path[-2] == "hashes":
        return normalize_hash(path[-1], value)
    return value.strip()
