"""Sharing-policy files: load, validate and lint the YAML that decides who sees what.

Policies live as YAML files in ``policies/`` so that every change to who may see a city's
indicators is reviewed and version-controlled like code. This package only reads them: it turns
a file into an immutable :class:`PolicyDocument` or explains, line by line, why it cannot. The
engine (``policy.engine``) applies a document; the CLI calls :func:`check_policy_files`.

Format (version 1)::

    version: 1
    default_marking: amber      # TLP level of objects with no TLP marking
    groups:                     # merged with the groups set by `cityshield member add --group`
      water-utility: [northport, lakeside]
    members:
      lakeside:
        anonymous: true         # republish this member's submissions under the hub identity
    rules:                      # in file order; a deny always beats an allow
      - name: north shares AMBER with the water utilities
        from: {groups: [north]} # omitted = any submitter
        markings: [amber]       # omitted = every level
        allow: {groups: [water-utility]}   # members / groups / everyone: true
      - name: nothing from northport to southbay
        from: {members: [northport]}
        deny: {members: [southbay]}        # members / groups (no everyone)
    export:                     # what members' exports (automated blocking) hold by default
      min_members: 2            # corroborated by at least 2 members
      min_confidence: 70
      groups:                   # per group (a member in several: the strictest)
        water-utility: {min_confidence: 50}
    # per member: members: {riverton: {export: {min_members: 1}}} (beats its groups)

Parsing is strict on purpose: a typo in a sharing policy must stop a reload rather than
silently share (or withhold) indicators, so unknown keys, wrong types and unknown TLP levels are
errors, and every error found is reported at once with its line. Findings that are legal but
probably wrong (a rule that can never apply, a name the hub does not know) are warnings, reported
only by :func:`check_policy_files`; their message starts with :data:`WARNING_PREFIX`.

Modules, bottom up: ``model`` (the parsed policy), ``problems`` (errors with their line),
``parsed`` (what one file yielded, errors and all), ``nodes`` (YAML nodes and their lines),
``values`` (names, TLP levels), ``rules``, ``exports`` and ``reader`` (the document's
sections), ``lint``
(warnings), ``merge`` (several files as one) and ``load`` (the entry points exported here).
"""

from __future__ import annotations

from cityshield.policy.document.load import (
    check_policy_files,
    load_policies,
    load_policy,
    merge_policies,
    parse_policies,
    parse_policy,
)
from cityshield.policy.document.model import (
    DEFAULT_POLICY,
    POLICY_VERSION,
    TLP_LEVELS,
    ExportDefaults,
    ExportSetting,
    PolicyDocument,
    Rule,
    Selector,
)
from cityshield.policy.document.problems import WARNING_PREFIX, PolicyError, PolicyProblem

__all__ = [
    "DEFAULT_POLICY",
    "POLICY_VERSION",
    "TLP_LEVELS",
    "WARNING_PREFIX",
    "ExportDefaults",
    "ExportSetting",
    "PolicyDocument",
    "PolicyError",
    "PolicyProblem",
    "Rule",
    "Selector",
    "check_policy_files",
    "load_policies",
    "load_policy",
    "merge_policies",
    "parse_policies",
    "parse_policy",
]
