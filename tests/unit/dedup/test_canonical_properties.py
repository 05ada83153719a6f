"""Property tests for the canonical IOC key.

Strategies build one IOC of each observable type with its canonical spelling computed
independently (``ipaddress``, ``idna``, string assembly), together with surface
variants of it as cities write them: case changes, trailing dots, defanging, default
ports, dot segments, percent-encoding case, ``/32``, IPv6 zero compression/expansion,
hash case and algorithm spellings, whitespace and redundant pattern structure.

Properties: every variant gets the expected key (hence one key per IOC, and distinct
IOCs get distinct keys); the validator-regex fast path gives exactly the AST path's
result; canonicalisation is idempotent; compound patterns are invariant under
reordering of commutative operands; nothing but ``ValueError`` escapes.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import string
import unicodedata
from collections.abc import Callable

import idna
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from stix2patterns.v21.pattern import Pattern
from stix2patterns.validator import validate

from cityshield.dedup.canonical import CanonicalIOC, _fast_single, canonical_ioc
from cityshield.stix.normalize import (
    _host,
    normalize_domain,
    normalize_email,
    normalize_ipv4,
    normalize_ipv6,
    normalize_url,
)
from cityshield.stix.validation.fast import _FAST_HASH_PATHS, _FAST_STRING_PATHS

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# An IOC: its expected key and (path, literal) spellings of it.
Family = tuple[str, list[tuple[str, str]]]


def escape(literal: str) -> str:
    return literal.replace("\\", "\\\\").replace("'", "\\'")


def random_case(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.swapcase() if flip else c for c, flip in zip(text, flips, strict=True))


def pad(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(["", " ", "  ", "\t", "\n", " \u3000"]))


@st.composite
def pattern_of(draw: st.DrawFn, path: str, literal: str) -> str:
    """``[path = 'literal']`` with whitespace variants and redundant structure."""

    def space() -> str:  # mostly spaces: the fast path's shape
        return draw(st.sampled_from(["", " ", " ", " ", "  ", "\t", "\n"]))

    comparison = f"{path}{space()}{draw(st.sampled_from(['=', '=', '==']))}{space()}"
    comparison += f"'{escape(literal)}'"
    shape = draw(st.sampled_from(["plain", "plain", "plain", "paren", "or-self", "and-self"]))
    if shape == "paren":
        return f"([{space()}({comparison}){space()}])"
    if shape == "or-self":
        return f"[{comparison} OR {comparison}]"
    if shape == "and-self":
        return f"[({comparison}) AND {comparison}]"
    return f"[{space()}{comparison}{space()}]"


# ------------------------------------------------------------------ IP addresses

DOTS_V4 = [".", ".", "[.]", "(.)", "{.}", "[dot]", "[DOT]", " . "]
DOTS = [".", ".", "[.]", "(.)", "{.}", "[dot]", "[Dot]", "。"]  # UTS 46 maps U+3002 to "."


def defang_dots(draw: st.DrawFn, text: str, dots: list[str] = DOTS) -> str:
    parts = text.split(".")
    out = parts[0]
    for part in parts[1:]:
        out += draw(st.sampled_from(dots)) + part
    return out


@st.composite
def ipv4_iocs(draw: st.DrawFn) -> Family:
    addr = draw(st.ip_addresses(v=4))
    if draw(st.booleans()):
        canonical, spellings = str(addr), [str(addr), f"{addr}/32"]
    else:
        prefix = draw(st.integers(0, 31))
        net = ipaddress.IPv4Network(f"{addr}/{prefix}", strict=False)
        host = net.network_address + draw(st.integers(0, net.num_addresses - 1))
        canonical, spellings = str(net), [str(net), f"{host}/{prefix}"]
    variants = [pad(draw) + defang_dots(draw, s, DOTS_V4) + pad(draw) for s in spellings]
    path = "ipv4-addr:value"
    return f"{path}={canonical}", [(path, v) for v in spellings + variants]


def ipv6_spellings(draw: st.DrawFn, addr: ipaddress.IPv6Address) -> list[str]:
    groups = [g.lstrip("0") or "0" for g in addr.exploded.split(":")]
    padded = ":".join(g.zfill(draw(st.integers(len(g), 4))) for g in groups)
    return [addr.compressed, addr.exploded, addr.exploded.upper(), random_case(draw, padded)]


@st.composite
def ipv6_iocs(draw: st.DrawFn) -> Family:
    addr = draw(st.ip_addresses(v=6))
    if draw(st.booleans()):
        canonical = addr.compressed
        spellings = ipv6_spellings(draw, addr)
        spellings += [f"{spellings[-1]}/128", f"[{spellings[1]}]"]
    else:
        prefix = draw(st.integers(0, 127))
        net = ipaddress.IPv6Network(f"{addr}/{prefix}", strict=False)
        canonical = net.compressed
        spellings = [f"{s}/{prefix}" for s in ipv6_spellings(draw, addr)]
    spellings = [pad(draw) + s + pad(draw) for s in spellings]
    path = "ipv6-addr:value"
    return f"{path}={canonical}", [(path, s) for s in spellings]


# ------------------------------------------------------------------ domains

ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
ASCII_LABELS = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(ALNUM),
    st.text(alphabet=ALNUM + "-", max_size=9),
).filter(lambda label: not label.endswith("-") and label[2:4] != "--")
UNICODE_LABELS = ["bücher", "münchen", "straße", "café", "пример", "δοκιμή", "日本語", "ñandú"]


@st.composite
def label_spellings(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A label's canonical (A-label) form and spellings of it."""
    if draw(st.integers(0, 3)) == 0:
        label = draw(st.sampled_from(UNICODE_LABELS))
        a_label = idna.encode(label, uts46=True).decode()
        spellings = [label, unicodedata.normalize("NFD", label), a_label, a_label.upper()]
        if idna.encode(label.upper(), uts46=True).decode() == a_label:  # not straße
            spellings.append(label.upper())
        return a_label, spellings
    label = draw(ASCII_LABELS)
    return label, [label, label.upper(), random_case(draw, label)]


@st.composite
def hosts(draw: st.DrawFn) -> tuple[str, st.SearchStrategy[str]]:
    """A canonical host name and a strategy for its spellings (case, IDNA, root dot)."""
    labels = draw(st.lists(label_spellings(), min_size=1, max_size=3))
    canonical = ".".join(a for a, _ in labels)

    @st.composite
    def spelling(draw2: st.DrawFn) -> str:
        parts = [draw2(st.sampled_from(spellings)) for _, spellings in labels]
        return ".".join(parts) + draw2(st.sampled_from(["", "", ".", "。"]))

    return canonical, spelling()


@st.composite
def domain_iocs(draw: st.DrawFn) -> Family:
    canonical, spellings = draw(hosts())
    variants = [draw(spellings) for _ in range(3)]
    variants += [pad(draw) + defang_dots(draw, v) + pad(draw) for v in variants]
    path = "domain-name:value"
    return f"{path}={canonical}", [(path, v) for v in variants]


@st.composite
def email_iocs(draw: st.DrawFn) -> Family:
    local = draw(st.sampled_from(ALNUM)) + draw(st.text(alphabet=ALNUM + "._+-", max_size=10))
    domain, spellings = draw(hosts())
    variants = []
    for _ in range(4):
        at = draw(st.sampled_from(["@", "@", "[@]", "[at]", "(at)", "{at}", " [AT] "]))
        spelled = defang_dots(draw, draw(spellings))
        variants.append(pad(draw) + random_case(draw, local) + at + spelled + pad(draw))
    path = "email-addr:value"
    return f"{path}={local}@{domain}", [(path, v) for v in variants]


# ------------------------------------------------------------------ URLs

UNRESERVED = "abcXYZ019-._~"
PATH_CHARS = UNRESERVED + "!$&'*+,;=:@"  # no brackets/braces/parens: those are defangs
PCT_TOKENS = ["%2F", "%3F", "%23", "%25", "%20", "%C3%BC", "%5B", "%40", "%27"]
SCHEMES = {
    "http": ["http", "HTTP", "Http", "hxxp", "HXXP", "hXXp"],
    "https": ["https", "HTTPS", "hxxps", "hXXpS"],
    "ftp": ["ftp", "FTP", "fxp", "FXP"],
}
DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}
tokens = st.lists(st.sampled_from(PATH_CHARS) | st.sampled_from(PCT_TOKENS), min_size=1, max_size=5)


def spell_tokens(draw: st.DrawFn, parts: list[str]) -> str:
    """Percent-encoding variants: hex case, unreserved characters encoded."""
    out = []
    for part in parts:
        if part.startswith("%"):
            out.append(draw(st.sampled_from([part, part.lower()])))
        elif part in UNRESERVED and draw(st.integers(0, 3)) == 0:
            hex_ = f"{ord(part):02X}"
            out.append("%" + draw(st.sampled_from([hex_, hex_.lower()])))
        else:
            out.append(part)
    return "".join(out)


@st.composite
def url_iocs(draw: st.DrawFn) -> Family:
    scheme = draw(st.sampled_from(sorted(SCHEMES)))
    kind = draw(st.sampled_from(["name", "name", "ipv4", "ipv6"]))
    if kind == "name":
        host, host_spellings = draw(hosts())
    elif kind == "ipv4":
        host = str(draw(st.ip_addresses(v=4)))
        host_spellings = st.sampled_from([host, host + "."])
    else:
        addr = draw(st.ip_addresses(v=6))
        host = f"[{addr.compressed}]"
        host_spellings = st.sampled_from([f"[{s}]" for s in ipv6_spellings(draw, addr)])
    port = draw(st.none() | st.integers(1, 65535).filter(lambda p: p != DEFAULT_PORTS[scheme]))
    segments = draw(st.lists(tokens.filter(lambda t: "".join(t) not in (".", "..")), max_size=4))
    trailing = bool(segments) and draw(st.booleans())
    query = draw(
        st.none() | st.lists(st.sampled_from(PATH_CHARS + "/?") | st.sampled_from(PCT_TOKENS))
    )
    path = "/" + "/".join("".join(s) for s in segments) + ("/" if trailing else "")
    canonical = "".join(
        (
            f"{scheme}://{host}",
            f":{port}" if port else "",
            path,
            "" if query is None else "?" + "".join(query),
        )
    )

    def spelling() -> str:
        default = DEFAULT_PORTS[scheme]
        spelled_port = (
            draw(st.sampled_from(["", "", ":", f":{default}", f":0{default}"]))
            if port is None
            else draw(st.sampled_from([f":{port}", f":0{port}"]))
        )
        spelled_segments = []
        for segment in segments:  # dot segments only before a real segment
            spelled_segments += draw(
                st.sampled_from([[], [], ["."], ["%2e"], ["x", ".."], ["y", "%2E%2e"]])
            )
            spelled_segments.append(spell_tokens(draw, segment))
        spelled_path = "/" + "/".join(spelled_segments) + ("/" if trailing else "")
        if spelled_path == "/" and draw(st.booleans()):
            spelled_path = ""
        return "".join(
            (
                draw(st.sampled_from(SCHEMES[scheme])),
                draw(st.sampled_from(["://", "://", "[://]", "[:]//"])),
                defang_dots(draw, draw(host_spellings)) if kind == "name" else draw(host_spellings),
                spelled_port,
                spelled_path,
                "" if query is None else "?" + spell_tokens(draw, query),
                draw(st.sampled_from(["", "", "#", "#frag", "#a/../b?c"])),
            )
        )

    path_ = "url:value"
    return f"{path_}={canonical}", [(path_, spelling()) for _ in range(4)]


# ------------------------------------------------------------------ hashes and the rest

HASHES = {
    "MD5": (32, ["hashes.MD5", "hashes.'MD5'", "hashes.'md5'", "hashes.md5"]),
    "SHA-1": (40, ["hashes.'SHA-1'", "hashes.SHA1", "hashes.'sha1'", "hashes.'sha-1'"]),
    "SHA-256": (
        64,
        [
            "hashes.'SHA-256'",
            "hashes.SHA256",
            "hashes.'sha-256'",
            "hashes.sha256",
            "hashes.SHA_256",
        ],
    ),
    "SHA-512": (128, ["hashes.'SHA-512'", "hashes.SHA512", "hashes.'Sha-512'"]),
    "SHA3-256": (64, ["hashes.'SHA3-256'", "hashes.SHA3256", "hashes.'sha3-256'"]),
}


@st.composite
def hash_iocs(draw: st.DrawFn) -> Family:
    algorithm = draw(st.sampled_from(sorted(HASHES)))
    length, paths = HASHES[algorithm]
    obj_type = draw(st.sampled_from(["file", "file", "artifact"]))
    digest = draw(st.text(alphabet="0123456789abcdef", min_size=length, max_size=length))
    spellings = [digest, digest.upper(), random_case(draw, digest), f" {digest}\t"]
    return f"{obj_type}:hashes.'{algorithm}'={digest}", [
        (f"{obj_type}:{draw(st.sampled_from(paths))}", spelled) for spelled in spellings
    ]


# Text across the whole code space: quotes, backslashes, controls, surrogates, astral.
any_text = st.text(
    alphabet=st.one_of(
        st.sampled_from("'\\\"\n\r\t\x00 []=:.-_aZ09é€\u2028\ufeff"),
        st.characters(codec=None, exclude_categories=()),
    ),
    max_size=30,
)
OTHER_PATHS = [
    "mac-addr:value",
    "file:name",
    "mutex:name",
    "process:command_line",
    "windows-registry-key:key",
    "x-city-thing:value",
    "x-city-thing:'IN'.'true'.x_3",
    "file:parent_directory_ref.path",
    "network-traffic:extensions.'http-request-ext'.request_value",
]


@st.composite
def other_iocs(draw: st.DrawFn) -> Family:
    path = draw(st.sampled_from(OTHER_PATHS))
    value = draw(any_text).strip()
    variants = [value, pad(draw) + value + pad(draw), f"\u2003{value} \n"]
    return f"{path}={value}", [(path, v) for v in variants]


iocs = st.one_of(
    ipv4_iocs(), ipv6_iocs(), domain_iocs(), email_iocs(), url_iocs(), hash_iocs(), other_iocs()
)


@st.composite
def ioc_patterns(draw: st.DrawFn) -> tuple[str, list[str]]:
    """An IOC's expected key and patterns spelling it."""
    expected, spellings = draw(iocs)
    return expected, [draw(pattern_of(path, literal)) for path, literal in spellings]


# ------------------------------------------------------------------ compound patterns

COMPOUND_FAMILIES = {"ipv4-addr": ipv4_iocs(), "domain-name": domain_iocs(), "file": hash_iocs()}


# (not hashes: stix2-patterns checks the literal of any comparison on a hash)
PATHS = {"ipv4-addr": "ipv4-addr:value", "domain-name": "domain-name:value", "file": "file:name"}


@st.composite
def leaves(draw: st.DrawFn, obj_type: str) -> list[str]:
    """Equivalent spellings of one comparison on ``obj_type``."""
    if draw(st.integers(0, 2)) == 0:  # an equality spelled as the cities do
        _, spellings = draw(COMPOUND_FAMILIES[obj_type])
        # (an artifact hash would AND across object types)
        return [f"{p.replace('artifact:', 'file:')} = '{escape(v)}'" for p, v in spellings]
    path = PATHS[obj_type]
    generic = [
        [f"{path} != 'v'", f"{path} NOT = 'v'"],
        [f"{obj_type}:x_name NOT != 'v'", f"{obj_type}:x_name = ' v '"],
        [f"{path} LIKE '%.v'"],
        [f"{path} NOT MATCHES '^v\\\\d'"],
        [f"{path} NOT IN ('a', 'b')", f"{path} NOT IN ('b', 'a', 'b')"],
        [f"EXISTS {path}"],
        [f"NOT EXISTS {path}"],
        [f"{obj_type}:x_size > 5", f"{obj_type}:x_size > +5"],
        [f"{obj_type}:x_size NOT <= 5"],
        [f"{obj_type}:x_ratio = 0.50", f"{obj_type}:x_ratio = .5"],
        [f"{obj_type}:x_blob = h'AB'", f"{obj_type}:x_blob = h'ab'"],
    ]
    return draw(st.sampled_from(generic))


@st.composite
def comparison_trees(draw: st.DrawFn, obj_type: str, depth: int = 0) -> object:
    """A leaf (list of spellings) or (AND|OR, [subtrees]); all on one object type."""
    if depth >= 2 or draw(st.booleans()):
        return draw(leaves(obj_type))
    op = draw(st.sampled_from(["AND", "OR"]))
    return op, [draw(comparison_trees(obj_type, depth + 1)) for _ in range(draw(st.integers(2, 3)))]


QUALIFIERS = [
    ["WITHIN 5 SECONDS", "WITHIN +5 SECONDS"],
    ["WITHIN 60 SECONDS"],
    ["REPEATS 3 TIMES", "REPEATS +3 TIMES"],
    [
        "START t'2024-01-01T00:00:00.500Z' STOP t'2024-02-01T00:00:00Z'",
        "START t'2024-01-01T00:00:00.5Z' STOP t'2024-02-01T00:00:00.000Z'",
    ],
]


@st.composite
def observation_trees(draw: st.DrawFn, depth: int = 0) -> tuple:
    """("OBS", comparison tree) | ("Q", subtree, qualifier spellings) | (op, [subtrees])."""
    kind = draw(st.integers(0, 4)) if depth < 2 else 0
    if kind <= 1:
        obj_type = draw(st.sampled_from(sorted(COMPOUND_FAMILIES)))
        return "OBS", draw(comparison_trees(obj_type))
    if kind == 2:
        return "Q", draw(observation_trees(depth + 1)), draw(st.sampled_from(QUALIFIERS))
    op = draw(st.sampled_from(["AND", "OR", "FOLLOWEDBY"]))
    return op, [draw(observation_trees(depth + 1)) for _ in range(draw(st.integers(2, 3)))]


def render_comparison(draw: st.DrawFn, node: object) -> str:
    if isinstance(node, list):
        text = draw(st.sampled_from(node))
        return f"({text})" if draw(st.integers(0, 4)) == 0 else text
    op, kids = node  # type: ignore[misc]
    kids = draw(st.permutations(kids))
    parts = []
    for kid in kids:
        text = render_comparison(draw, kid)
        nested = isinstance(kid, tuple)
        parts.append(f"({text})" if nested and (kid[0] != op or draw(st.booleans())) else text)
    return f" {op} ".join(parts)


def render_observation(draw: st.DrawFn, node: tuple) -> str:
    kind = node[0]
    if kind == "OBS":
        return f"[{render_comparison(draw, node[1])}]"
    if kind == "Q":
        inner = render_observation(draw, node[1])
        binary = node[1][0] in ("AND", "OR", "FOLLOWEDBY")
        if binary or (node[1][0] == "Q" and draw(st.booleans())):
            inner = f"({inner})"
        return f"{inner} {draw(st.sampled_from(node[2]))}"
    op, kids = node
    if op != "FOLLOWEDBY":
        kids = draw(st.permutations(kids))
    parts = []
    for kid in kids:
        text = render_observation(draw, kid)
        binary = kid[0] in ("AND", "OR", "FOLLOWEDBY")
        parts.append(f"({text})" if binary and (kid[0] != op or draw(st.booleans())) else text)
    return f" {op} ".join(parts)


@st.composite
def compound_renderings(draw: st.DrawFn) -> tuple[str, str]:
    """Two spellings of one compound pattern (operands reordered, values re-spelt)."""
    tree = draw(observation_trees())
    return render_observation(draw, tree), render_observation(draw, tree)


# ------------------------------------------------------------------ helpers


def outcome(pattern: str, fast: bool = True) -> CanonicalIOC | str:
    try:
        return canonical_ioc(pattern, fast=fast)
    except ValueError as exc:
        return f"ValueError: {exc}"


def assert_canonical(c: CanonicalIOC, valid: bool = True) -> None:
    """The published pattern parses (passes stix2-patterns' validator if ``valid``; any
    single IOC does) and re-canonicalises to the same IOC."""
    Pattern(c.pattern)
    if valid or c.observable_type != "compound":
        assert validate(c.pattern, "2.1"), c.pattern
    if c.observable_type != "compound":
        assert c.key == f"{c.observable_type}:{c.path}={c.value}"
    assert canonical_ioc(c.pattern) == c
    assert canonical_ioc(c.pattern, fast=False) == c


# ------------------------------------------------------------------ properties


@SETTINGS
@given(ioc_patterns())
def test_all_variants_of_one_ioc_get_its_key(family: tuple[str, list[str]]) -> None:
    expected, patterns = family
    for pattern in patterns:
        c = canonical_ioc(pattern)
        assert c.key == expected, pattern
        assert canonical_ioc(pattern, fast=False) == c
        assert_canonical(c)


@SETTINGS
@given(iocs, iocs, st.data())
def test_distinct_iocs_get_distinct_keys(a: Family, b: Family, data: st.DataObject) -> None:
    """Two generated IOCs share a key iff they are the same IOC (any spellings)."""
    key_a = canonical_ioc(data.draw(pattern_of(*data.draw(st.sampled_from(a[1]))))).key
    key_b = canonical_ioc(data.draw(pattern_of(*data.draw(st.sampled_from(b[1]))))).key
    assert (key_a == key_b) == (a[0] == b[0])


# Every path the validator's fast path whitelists (taken from it, so they stay in sync).
STRING_PATHS = sorted(f"{obj_type}:{path}" for obj_type, path in _FAST_STRING_PATHS)
FAST_HASH_PATHS = {
    f"file:{path}": int(re.search(r"\{(\d+)\}", regex.pattern).group(1))
    for path, regex in _FAST_HASH_PATHS.items()
}
# Literals rich in what the normalisers react to, nested defangs included ("[[.]]").
net_text = st.lists(
    st.sampled_from(
        [
            *("[", "]", "(", ")", "{", "}", ".", ":", "/", "@", "%", "?", "#", "-", " ", "\t"),
            *("'", "\\", "[.]", "[dot]", "(.)", "[:]", "[://]", "[@]", "[at]", "hxxp", "fxp"),
            *("://", "%2e", "%2F", "%41", "/..", "/.", "80", ":80", "0", "1.2.3.4", "::1"),
            *("/32", "/24", "a", "A", "xn--", "é", "ü", "ß", "。", "\u3000", "_", "ffff", "S"),
        ]
    )
    | st.recursive(  # nested defangs: "[(.)]", "{[.]}"...
        st.just("."),
        lambda inner: st.tuples(st.sampled_from(["[]", "()", "{}"]), inner).map(
            lambda t: t[0][0] + t[1] + t[0][1]
        ),
        max_leaves=4,
    )
    | st.characters(codec=None, exclude_categories=()),
    max_size=16,
).map("".join)


@st.composite
def fast_patterns(draw: st.DrawFn) -> str:
    """Patterns of the validator fast-path shape: any whitelisted path, any literal."""

    def space() -> str:
        return " " * draw(st.integers(0, 2))

    if draw(st.booleans()):
        path = draw(st.sampled_from(STRING_PATHS))
        literal = draw(any_text | net_text)
    else:
        path, length = draw(st.sampled_from(sorted(FAST_HASH_PATHS.items())))
        length = draw(st.sampled_from([length, length, length, length - 1, length + 1]))
        literal = draw(st.text(alphabet="0123456789abcdefABCDEF", min_size=length, max_size=length))
    return f"[{space()}{path}{space()}={space()}'{escape(literal)}'{space()}]"


@SETTINGS
@given(fast_patterns())
def test_fast_path_equals_ast_path(pattern: str) -> None:
    try:
        fast = _fast_single(pattern)
    except ValueError as exc:
        fast = f"ValueError: {exc}"
    assert fast is not None, "the fast path must fire on this shape"
    assert fast == outcome(pattern, fast=False)
    assert outcome(pattern) == fast


@SETTINGS
@given(st.sampled_from(STRING_PATHS + OTHER_PATHS), net_text | any_text)
def test_single_comparisons_are_idempotent_for_any_literal(path: str, literal: str) -> None:
    c = canonical_ioc(f"[{path} = '{escape(literal)}']")
    assert c.observable_type == path.split(":")[0]
    assert_canonical(c)


@SETTINGS
@given(compound_renderings())
def test_compound_reorderings_share_one_key(renderings: tuple[str, str]) -> None:
    first, second = renderings
    a, b = canonical_ioc(first), canonical_ioc(second)
    assert a.key == b.key, (first, second)
    assert a == b
    assert_canonical(a)


@SETTINGS
@given(iocs, iocs, st.data())
def test_patterns_stix2_refuses_get_a_whitespace_insensitive_key(
    a: Family, b: Family, data: st.DataObject
) -> None:
    """AND across object types in one observation: stix2's AST refuses it (fallback)."""
    (path_a, literal_a), (path_b, literal_b) = (data.draw(st.sampled_from(f[1])) for f in (a, b))
    assume(path_a.split(":")[0] != path_b.split(":")[0])

    def render() -> str:
        def ws() -> str:
            return data.draw(st.sampled_from([" ", "  ", "\n", "\t", " /* x */ ", " // x\n"]))

        return (
            f"[{ws()}{path_a}{ws()}={ws()}'{escape(literal_a)}'{ws()}AND"
            f"{ws()}{path_b} = '{escape(literal_b)}'{ws()}]"
        )

    first, second = canonical_ioc(render()), canonical_ioc(render())
    assert first == second
    assert first.observable_type == "compound"
    assert_canonical(first, valid=False)  # literals are kept as written, e.g. " HEX\t"


def corrupt(draw: st.DrawFn, text: str) -> str:
    if not text:
        return draw(any_text)
    i = draw(st.integers(0, len(text) - 1))
    char = draw(st.sampled_from([*"[]()'\\=:. ,*-+_0aZtbh", "AND", "OR", "NOT", "é"]))
    op = draw(st.sampled_from(["insert", "delete", "replace"]))
    if op == "insert":
        return text[:i] + char + text[i:]
    if op == "delete":
        return text[:i] + text[i + 1 :]
    return text[:i] + char + text[i + 1 :]


@st.composite
def junk_patterns(draw: st.DrawFn) -> str:
    source = draw(
        st.sampled_from(["text", "ioc", "compound", "fast"]),
    )
    if source == "text":
        return draw(any_text | net_text)
    if source == "ioc":
        text = draw(st.sampled_from(draw(ioc_patterns())[1]))
    elif source == "compound":
        text = draw(compound_renderings())[0]
    else:
        text = draw(fast_patterns())
    for _ in range(draw(st.integers(0, 2))):
        text = corrupt(draw, text)
    return text


@SETTINGS
@given(junk_patterns())
# Found by this test: the root dot dropped before white space or a UTS 46 dot.
@example("[domain-name:value = '\tbücher.example \u3000.'] FOLLOWEDBY [file:name = 'x']")
@example("[domain-name:value = 'bücher。example。.'] OR [ipv4-addr:value = '10.0.0.1']")
@example("[email-addr:value = 'bob@xn--bcher-kva.example\n.'] OR [file:name = 'x']")
def test_only_value_error_escapes_and_accepted_patterns_are_stable(pattern: str) -> None:
    result = outcome(pattern)
    assert outcome(pattern, fast=False) == result
    if isinstance(result, CanonicalIOC):
        assert_canonical(result, valid=False)


# Pieces the normalisers react to, for values built mostly of them.
NORMALIZER_PIECES = [
    *". \t\n\u3000\u3002\uff0e\uff61\u2488\u00a0\u200baZ-_@:/%[](){}?#'",
    *("[.]", "[dot]", "(.)", "[@]", "[at]", "xn--", "bücher", "ß", "é", "日本", "İ"),
    *("http://", "hxxp", "[://]", "[:]", "%2e", "%41", "%20", ":80", "/..", "1.2.3.4", "::1"),
]


@SETTINGS
@given(
    st.sampled_from(
        [normalize_domain, normalize_email, normalize_url, normalize_ipv4, normalize_ipv6]
    ),
    st.lists(
        st.sampled_from(NORMALIZER_PIECES) | st.characters(codec=None, exclude_categories=()),
        max_size=12,
    ).map("".join),
)
@example(normalize_domain, ". .")
@example(normalize_email, "a@bücher.example。.")
def test_normalizers_are_idempotent(normalize: Callable[[str], str], value: str) -> None:
    """Cheaper than through patterns, so it can try many more values: a canonical
    value must be its own canonical value."""
    once = normalize(value)
    assert normalize(once) == once


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.ascii_letters + string.digits + "-._", min_size=1, max_size=40))
def test_ascii_hosts_skip_idna_without_changing_the_result(name: str) -> None:
    """normalize._host skips idna for ASCII names: it must give what idna would have."""
    expected = name.lower()
    with contextlib.suppress(ValueError):
        expected = idna.encode(expected, uts46=True).decode("ascii")
    if expected.endswith(".") and not expected.endswith(".."):
        expected = expected[:-1]
    assert _host(name) == expected
