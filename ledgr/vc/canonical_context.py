"""JSON-LD 1.1 context processing for ledgr's canonicalizer (JSON-LD 1.1 Processing Algorithms §4).

Implements Context Processing (§4.1), Create Term Definition (§4.2) and IRI Expansion (§5.2) for the
subset of JSON-LD that credentials use: remote contexts (through the offline loader only),
``@protected``, ``@vocab``, ``@version``, ``@propagate``, ``@language``/``@direction`` defaults,
type- and property-scoped contexts, compact IRIs, ``@type`` coercion (``@id``, ``@vocab``, ``@json``,
IRIs) and the containers ``@set``, ``@list``, ``@graph``, ``@language`` and ``@index``. Features outside
that subset (``@import``, ``@reverse``, ``@nest``, id/type maps …) raise
:class:`~ledgr.errors.InvalidDocument` instead of being processed approximately: what ledgr signs
must mean exactly what the specification says.

Processed contexts are immutable and cached per loader (``DocumentLoader.derived``): applying the
same context (by URL, or by identity for objects inside loaded contexts) to the same active context
returns the cached result, so credentials that use standard contexts skip context processing.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urljoin

from ledgr.errors import InvalidDocument, TooLarge
from ledgr.vc.loader import DocumentLoader

KEYWORDS = frozenset({
    "@base", "@container", "@context", "@direction", "@graph", "@id", "@import", "@included", "@index",
    "@json", "@language", "@list", "@nest", "@none", "@prefix", "@propagate", "@protected", "@reverse",
    "@set", "@type", "@value", "@version", "@vocab",
})
_KEYWORD_LIKE = re.compile(r"^@[A-Za-z]+$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_GEN_DELIMS = frozenset(":/?#[]@")
_CONTEXT_KEYWORDS = frozenset({"@base", "@direction", "@import", "@language", "@propagate", "@protected",
                               "@version", "@vocab"})
_SUPPORTED_CONTAINERS = {
    frozenset(c): frozenset(c) for c in (
        (), ("@set",), ("@list",), ("@graph",), ("@graph", "@set"), ("@language",), ("@language", "@set"),
        ("@index",), ("@index", "@set"),
    )
}
MAX_REMOTE_CONTEXTS = 32
MAX_CACHED_PER_CONTEXT = 64
MAX_CACHED_PER_LOADER = 4096
MAX_INLINE_CONTEXT_CHARS = 64 * 1024

ABSENT: Any = object()  # a term definition member that was not given (distinct from JSON null)


def is_absolute_iri(value: str) -> bool:
    return _SCHEME.match(value) is not None


def is_keyword_like(value: str) -> bool:
    return _KEYWORD_LIKE.match(value) is not None


class TermDefinition:
    """One term definition (JSON-LD 1.1 §4.2): ``iri`` None means the term is explicitly unmapped."""

    __slots__ = ("container", "context", "direction", "iri", "language", "prefix", "protected",
                 "type_mapping")

    def __init__(self, iri: str | None, *, type_mapping: str | None = None,
                 container: frozenset[str] = frozenset(), language: Any = ABSENT, direction: Any = ABSENT,
                 context: Any = ABSENT, protected: bool = False, prefix: bool = False) -> None:
        self.iri = iri
        self.type_mapping = type_mapping
        self.container = container
        self.language = language
        self.direction = direction
        self.context = context
        self.protected = protected
        self.prefix = prefix

    def same_as(self, other: TermDefinition) -> bool:
        """Equal apart from ``protected`` (the protected-redefinition test of §4.2 step 27)."""
        return (self.iri == other.iri and self.type_mapping == other.type_mapping
                and self.container == other.container and self.language == other.language
                and self.direction == other.direction and self.prefix == other.prefix
                and (self.context is other.context or self.context == other.context))


class ActiveContext:
    """An immutable processed context; ``apply`` returns a new one (cached)."""

    __slots__ = ("_cache", "base", "direction", "language", "loader", "previous", "terms", "vocab")

    def __init__(self, loader: DocumentLoader, terms: dict[str, TermDefinition] | None = None,
                 vocab: str | None = None, base: str | None = None, language: str | None = None,
                 direction: str | None = None, previous: ActiveContext | None = None) -> None:
        self.loader = loader
        self.terms: dict[str, TermDefinition] = terms if terms is not None else {}
        self.vocab = vocab
        self.base = base
        self.language = language
        self.direction = direction
        self.previous = previous
        self._cache: dict[Any, tuple[Any, ActiveContext]] = {}

    @classmethod
    def initial(cls, loader: DocumentLoader) -> ActiveContext:
        """The per-loader empty context, the root of that loader's processed-context cache."""
        root = loader.derived.get("jsonld-initial-context")
        if not isinstance(root, ActiveContext):
            root = cls(loader)
            loader.derived["jsonld-initial-context"] = root
        return root

    def _clone(self) -> ActiveContext:
        return ActiveContext(self.loader, dict(self.terms), self.vocab, self.base, self.language,
                             self.direction, self.previous)

    def apply(self, local: Any, *, override_protected: bool = False, propagate: bool = True,
              remote: tuple[str, ...] = (), from_document: bool = False) -> ActiveContext:
        """Context Processing (§4.1) of ``local`` on this context, memoized.

        ``from_document`` marks a context object taken from the (mutable, untrusted) input document:
        it is keyed by its JSON text and processed as a private copy. Other objects come from loaded
        context documents or from such private copies and are keyed by identity.
        """
        if remote:
            return _process(self, local, override_protected, propagate, remote)
        if isinstance(local, str) or local is None:
            key: Any = ("url", local, override_protected, propagate)
        elif from_document:
            if isinstance(local, list) and all(isinstance(c, str) for c in local):
                key = ("urls", tuple(local), override_protected, propagate)
            else:
                try:
                    text = json.dumps(local, sort_keys=True, separators=(",", ":"), allow_nan=False)
                except (TypeError, ValueError) as exc:
                    raise InvalidDocument(f"an inline JSON-LD context is not valid JSON: {exc}") from exc
                if len(text) > MAX_INLINE_CONTEXT_CHARS:
                    raise TooLarge(f"an inline JSON-LD context is larger than {MAX_INLINE_CONTEXT_CHARS} "
                                   "characters", limit=MAX_INLINE_CONTEXT_CHARS)
                key = ("json", text, override_protected, propagate)
                local = json.loads(text)
        else:
            key = ("object", id(local), override_protected, propagate)
        hit = self._cache.get(key)
        if hit is not None and (key[0] != "object" or hit[0] is local):
            return hit[1]
        result = _process(self, local, override_protected, propagate, remote)
        budget = self.loader.derived.setdefault("jsonld-cache-budget", [MAX_CACHED_PER_LOADER])
        if len(self._cache) < MAX_CACHED_PER_CONTEXT and budget[0] > 0:
            budget[0] -= 1  # documents can carry inline contexts: the cache must stay bounded
            self._cache[key] = (local, result)
        return result

    # -- IRI expansion (§5.2) -------------------------------------------------------------------

    def expand_iri(self, value: str, *, vocab: bool) -> str | None:
        """IRI Expansion; returns a keyword, an absolute IRI, a blank node id, a relative IRI or None.

        None means "maps to nothing" (a term defined as null, or a keyword-like string).
        """
        if value in KEYWORDS:
            return value
        if value.startswith("@") and is_keyword_like(value):
            return None
        if vocab:
            definition = self.terms.get(value)
            if definition is not None:
                return definition.iri
        colon = value.find(":", 1)
        if colon > 0:
            prefix, suffix = value[:colon], value[colon + 1:]
            if prefix == "_" or suffix.startswith("//"):
                return value
            definition = self.terms.get(prefix)
            if definition is not None and definition.iri is not None and definition.prefix:
                return definition.iri + suffix
            if is_absolute_iri(value):
                return value
        if vocab and self.vocab is not None:
            return self.vocab + value
        if self.base is not None:
            return urljoin(self.base, value)
        return value


def _process(active: ActiveContext, local: Any, override_protected: bool, propagate: bool,
             remote: tuple[str, ...]) -> ActiveContext:
    if isinstance(local, dict) and "@propagate" in local:
        propagate = local["@propagate"] is True
    result = active._clone()
    if not propagate and result.previous is None:
        result.previous = active
    for context in local if isinstance(local, list) else [local]:
        if context is None:
            if not override_protected and any(d.protected for d in result.terms.values()):
                raise InvalidDocument("a null @context cannot clear protected JSON-LD terms "
                                      "(invalid context nullification)")
            result = ActiveContext(active.loader, previous=None if propagate else result)
            continue
        if isinstance(context, str):
            if context in remote:
                continue
            if len(remote) >= MAX_REMOTE_CONTEXTS:
                raise TooLarge(f"more than {MAX_REMOTE_CONTEXTS} nested remote JSON-LD contexts",
                               limit=MAX_REMOTE_CONTEXTS)
            url = urljoin(active.base, context) if active.base is not None else context
            document = active.loader.load(url)
            result = result.apply(document["@context"], override_protected=override_protected,
                                  remote=(*remote, url))
            continue
        if not isinstance(context, dict):
            raise InvalidDocument(f"invalid @context entry {context!r}: expected an object, URL or null")
        result = _process_object(result, context, override_protected, remote)
    return result


def _process_object(result: ActiveContext, context: dict[str, Any], override_protected: bool,
                    remote: tuple[str, ...]) -> ActiveContext:
    if "@version" in context and context["@version"] != 1.1:
        raise InvalidDocument(f"unsupported JSON-LD @version {context['@version']!r}")
    if "@import" in context:
        raise InvalidDocument("JSON-LD @import in contexts is not supported by ledgr")
    if "@base" in context and not remote:
        base = context["@base"]
        if base is not None and (not isinstance(base, str) or not is_absolute_iri(base)):
            raise InvalidDocument(f"@base must be an absolute IRI or null, got {base!r}")
        result.base = base
    if "@vocab" in context:
        vocab = context["@vocab"]
        if vocab is None:
            result.vocab = None
        elif isinstance(vocab, str):
            expanded = result.expand_iri(vocab, vocab=True)
            if expanded is None or not (is_absolute_iri(expanded) or expanded.startswith("_:")):
                raise InvalidDocument(f"@vocab {vocab!r} is not an absolute IRI")
            result.vocab = expanded
        else:
            raise InvalidDocument("@vocab must be a string or null")
    if "@language" in context:
        language = context["@language"]
        if language is not None and not isinstance(language, str):
            raise InvalidDocument("@language must be a string or null")
        result.language = language.lower() if language else None
    if "@direction" in context:
        direction = context["@direction"]
        if direction not in (None, "ltr", "rtl"):
            raise InvalidDocument("@direction must be 'ltr', 'rtl' or null")
        result.direction = direction
    if "@propagate" in context and not isinstance(context["@propagate"], bool):
        raise InvalidDocument("@propagate must be true or false")
    protected = context.get("@protected", False)
    if not isinstance(protected, bool):
        raise InvalidDocument("@protected must be true or false")
    defined: dict[str, bool] = {}
    for term in context:
        if term not in _CONTEXT_KEYWORDS:
            _create_term(result, context, term, defined, protected, override_protected)
    return result


def _create_term(active: ActiveContext, local: dict[str, Any], term: str, defined: dict[str, bool],
                 default_protected: bool, override_protected: bool) -> None:
    """Create Term Definition (§4.2)."""
    if term in defined:
        if not defined[term]:
            raise InvalidDocument(f"cyclic IRI mapping for JSON-LD term {term!r}")
        return
    if term == "":
        raise InvalidDocument("the empty string is not a valid JSON-LD term")
    defined[term] = False
    value = local[term]
    if term == "@type":
        if not isinstance(value, dict) or set(value) - {"@container", "@protected"} \
                or value.get("@container", "@set") != "@set":
            raise InvalidDocument("the @type keyword may only be given '@container': '@set'")
        defined[term] = True
        return
    if term in KEYWORDS:
        raise InvalidDocument(f"JSON-LD keyword {term} cannot be redefined")
    if is_keyword_like(term):
        defined[term] = True  # ignored per §4.2 step 5, like every processor
        return
    previous = active.terms.pop(term, None)
    simple = isinstance(value, str)
    if value is None:
        value = {"@id": None}
    elif simple:
        value = {"@id": value}
    elif not isinstance(value, dict):
        raise InvalidDocument(f"invalid definition of JSON-LD term {term!r}")
    unsupported = set(value) & {"@reverse", "@nest", "@index"}
    if unsupported:
        raise InvalidDocument(f"JSON-LD term {term!r} uses {sorted(unsupported)[0]}, "
                              "which ledgr does not support")
    protected = value.get("@protected", default_protected)
    definition = TermDefinition(None, protected=bool(protected))

    if "@type" in value:
        type_value = value["@type"]
        if not isinstance(type_value, str):
            raise InvalidDocument(f"invalid @type mapping of JSON-LD term {term!r}")
        expanded = _expand_in_local(active, local, type_value, defined, default_protected, override_protected)
        if expanded not in ("@id", "@json", "@none", "@vocab") and (
                expanded is None or not is_absolute_iri(expanded)):
            raise InvalidDocument(f"invalid @type mapping {type_value!r} of JSON-LD term {term!r}")
        definition.type_mapping = expanded

    if "@id" in value and value["@id"] != term:
        id_value = value["@id"]
        if id_value is not None:
            if not isinstance(id_value, str):
                raise InvalidDocument(f"invalid @id of JSON-LD term {term!r}")
            if not (id_value in KEYWORDS or not is_keyword_like(id_value)):
                defined[term] = True
                return
            iri = _expand_in_local(active, local, id_value, defined, default_protected, override_protected)
            if iri is None or not (iri in KEYWORDS or is_absolute_iri(iri) or iri.startswith("_:")):
                raise InvalidDocument(f"JSON-LD term {term!r} maps to {id_value!r}, which is not an IRI")
            if iri == "@context":
                raise InvalidDocument("a JSON-LD term cannot alias @context")
            definition.iri = iri
            if ":" not in term and "/" not in term and simple and iri[-1] in _GEN_DELIMS:
                definition.prefix = True
    elif ":" in term[1:]:
        prefix, suffix = term.split(":", 1)
        if prefix in local:
            _create_term(active, local, prefix, defined, default_protected, override_protected)
        prefix_def = active.terms.get(prefix)
        if prefix_def is not None and prefix_def.iri is not None:
            definition.iri = prefix_def.iri + suffix
        elif is_absolute_iri(term) or term.startswith("_:"):
            definition.iri = term
        else:
            raise InvalidDocument(f"JSON-LD term {term!r} has an undefined prefix")
    elif "/" in term:
        raise InvalidDocument(f"relative-IRI JSON-LD term {term!r} is not supported")
    elif active.vocab is not None:
        definition.iri = active.vocab + term
    else:
        raise InvalidDocument(f"JSON-LD term {term!r} has no @id and the context has no @vocab")

    if "@container" in value:
        raw = value["@container"]
        items = raw if isinstance(raw, list) else [raw]
        container = _SUPPORTED_CONTAINERS.get(frozenset(i for i in items if isinstance(i, str)))
        if container is None or not all(isinstance(i, str) for i in items):
            raise InvalidDocument(f"JSON-LD container {raw!r} of term {term!r} is not supported by ledgr")
        definition.container = container
    if "@context" in value:
        definition.context = value["@context"]
    if "@language" in value and "@type" not in value:
        language = value["@language"]
        if language is not None and not isinstance(language, str):
            raise InvalidDocument(f"invalid @language of JSON-LD term {term!r}")
        definition.language = language.lower() if language else None
    if "@direction" in value and "@type" not in value:
        if value["@direction"] not in (None, "ltr", "rtl"):
            raise InvalidDocument(f"invalid @direction of JSON-LD term {term!r}")
        definition.direction = value["@direction"]
    if "@prefix" in value:
        if not isinstance(value["@prefix"], bool) or ":" in term or "/" in term:
            raise InvalidDocument(f"invalid @prefix of JSON-LD term {term!r}")
        definition.prefix = value["@prefix"]

    if previous is not None and previous.protected and not override_protected:
        if not definition.same_as(previous):
            raise InvalidDocument(f"JSON-LD term {term!r} is protected and cannot be redefined "
                                  "(protected term redefinition)")
        definition = previous
    active.terms[term] = definition
    defined[term] = True


def _expand_in_local(active: ActiveContext, local: dict[str, Any], value: str, defined: dict[str, bool],
                     default_protected: bool, override_protected: bool) -> str | None:
    """IRI expansion during context processing (§5.2 steps 3-4: define dependencies first)."""
    if value in local and value not in KEYWORDS and defined.get(value) is not True:
        _create_term(active, local, value, defined, default_protected, override_protected)
    colon = value.find(":", 1)
    if colon > 0:
        prefix = value[:colon]
        if prefix in local and defined.get(prefix) is not True:
            _create_term(active, local, prefix, defined, default_protected, override_protected)
    return active.expand_iri(value, vocab=True)
