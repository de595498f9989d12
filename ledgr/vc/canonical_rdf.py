"""JSON-LD → RDF (N-Quads text) in one pass, with JSON-LD *safe mode* and bounded work.

This fuses JSON-LD 1.1 Expansion (§5.1), Node Map Generation (§7.2) and Deserialize JSON-LD to RDF
(§8.1) for the subset of JSON-LD in :mod:`ledgr.vc.canonical_context`: the result is the same RDF
dataset those algorithms produce (blank-node labels aside, which RDFC-1.0 replaces anyway).

Safe mode (what neither pyld nor pyoxigraph offers): plain JSON-LD silently *drops* a property whose
term maps to no IRI, a ``@type`` or ``@vocab``-typed value that maps to no absolute IRI, node ids that
are relative references, and base directions (``@direction`` without ``rdfDirection``). Dropped data
is not signed, so a signed credential could carry unsigned claims. Here each of those raises
:class:`~ledgr.errors.UnmappedTerm` (terms, types, ``@direction``) or
:class:`~ledgr.errors.InvalidDocument` (relative ids) naming the culprit. Detecting it costs nothing
extra: the walk must expand every key anyway.

Work is bounded before any native code runs: nesting depth, JSON values visited, total string
length, quads and blank nodes are all capped (:class:`~ledgr.vc.canonical_terms.Limits`).
"""

from __future__ import annotations

import math
from typing import Any

from ledgr.crypto import canonicalize
from ledgr.errors import InvalidDocument, TooLarge, UnmappedTerm
from ledgr.vc.canonical_context import ABSENT, ActiveContext, TermDefinition, is_absolute_iri
from ledgr.vc.canonical_terms import (
    DEFAULT_LIMITS,
    RDF_FIRST,
    RDF_JSON,
    RDF_NIL,
    RDF_REST,
    RDF_TYPE,
    XSD_BOOLEAN,
    XSD_DOUBLE,
    XSD_INTEGER,
    XSD_STRING,
    Limits,
    double,
    literal,
    refuse_direction,
)

_NODE_KEYWORDS_REJECTED = frozenset({"@included", "@reverse", "@nest", "@list", "@set", "@value", "@language",
                                     "@direction", "@json", "@none", "@vocab", "@base", "@container",
                                     "@prefix", "@propagate", "@protected", "@version", "@import"})
_VALUE_KEYS = frozenset({"@value", "@type", "@language", "@direction", "@index"})


def _check_keys(element: dict[Any, Any]) -> None:
    if not all(type(key) is str for key in element):
        raise InvalidDocument("JSON object keys must be strings")


class RdfWriter:
    """One document's walk; emits N-Quads lines into :attr:`lines`."""

    __slots__ = ("_blank_labels", "_blank_nodes", "_chars", "_values", "blank_quads", "limits", "lines")

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.lines: list[str] = []
        #: the statements that mention a blank node, as (subject, predicate, object, graph) terms
        self.blank_quads: list[tuple[str, str, str, str]] = []
        self._blank_nodes = 0
        self._blank_labels: dict[str, str] = {}
        self._values = 0
        self._chars = 0

    # -- budget ---------------------------------------------------------------------------------

    def _visit(self, depth: int) -> None:
        self._values += 1
        if self._values > self.limits.values_max:
            raise TooLarge(f"document has more than {self.limits.values_max} JSON values",
                           limit=self.limits.values_max)
        if depth > self.limits.depth_max:
            raise TooLarge(f"document nests deeper than {self.limits.depth_max} levels",
                           limit=self.limits.depth_max)

    def _count_chars(self, text: str) -> None:
        self._chars += len(text)
        if self._chars > self.limits.string_chars_max:
            raise TooLarge(f"document strings exceed {self.limits.string_chars_max} characters",
                           limit=self.limits.string_chars_max)

    def _blank(self) -> str:
        self._blank_nodes += 1
        if self._blank_nodes > self.limits.blank_nodes_max:
            raise TooLarge(f"document has more than {self.limits.blank_nodes_max} blank nodes",
                           limit=self.limits.blank_nodes_max)
        return f"_:b{self._blank_nodes}"

    def _emit(self, subject: str, predicate: str, obj: str, graph: str) -> None:
        if len(self.lines) >= self.limits.quads_max:
            raise TooLarge(f"document yields more than {self.limits.quads_max} RDF statements",
                           limit=self.limits.quads_max)
        self.lines.append(f"{subject} {predicate} {obj}{graph} .\n")
        if subject[0] == "_" or obj[0] == "_" or graph[:2] == " _":
            self.blank_quads.append((subject, predicate, obj, graph[1:]))

    # -- identifiers ----------------------------------------------------------------------------

    def _node_term(self, iri: str | None, original: str) -> str:
        """An IRI or blank node term; relative references are rejected (safe mode)."""
        if iri is not None and iri.startswith("_:"):
            label = self._blank_labels.get(iri)
            if label is None:
                label = self._blank()
                self._blank_labels[iri] = label
            return label
        if iri is None or not is_absolute_iri(iri):
            raise InvalidDocument(f"{original!r} is not an absolute IRI; JSON-LD would silently drop "
                                  "it from what is signed (safe mode)", term=original)
        return f"<{iri}>"

    # -- the walk -------------------------------------------------------------------------------

    def document(self, document: Any, context: ActiveContext) -> None:
        """Deserialize a whole JSON-LD document into :attr:`lines`."""
        items = document if isinstance(document, list) else [document]
        for item in items:
            self._visit(1)
            if not isinstance(item, dict):
                raise InvalidDocument("a JSON-LD document must be a JSON object or an array of objects")
            _check_keys(item)
            ctx = context.apply(item["@context"], from_document=True) if "@context" in item else context
            keys = [k for k in item if k != "@context"]
            if keys and all(ctx.expand_iri(k, vocab=True) == "@graph" for k in keys):
                for key in keys:
                    self._values_of(item[key], ctx, None, "", [], 2)
                continue
            if any(ctx.expand_iri(k, vocab=True) in ("@value", "@list", "@set") for k in keys):
                raise InvalidDocument("the top level of a JSON-LD document must be a node object")
            self._node(item, ctx, "", 1)

    def _values_of(self, value: Any, ctx: ActiveContext, definition: TermDefinition | None, graph: str,
                   out: list[str], depth: int) -> None:
        """Objects of a property value (array, node/value/list object or scalar) appended to ``out``."""
        self._visit(depth)
        if value is None:
            return
        if isinstance(value, list):
            for item in value:
                if isinstance(item, list):
                    raise InvalidDocument("nested arrays (lists of lists) are not supported")
                self._values_of(item, ctx, definition, graph, out, depth + 1)
        elif isinstance(value, dict):
            self._object(value, ctx, definition, graph, out, depth)
        else:
            if definition is not None and definition.context is not ABSENT:
                ctx = ctx.apply(definition.context, override_protected=True)  # §5.1.2 step 5
            out.append(self._scalar(value, ctx, definition))

    def _object(self, element: dict[str, Any], ctx: ActiveContext, definition: TermDefinition | None,
                graph: str, out: list[str], depth: int) -> None:
        _check_keys(element)
        if ctx.previous is not None and not self._keeps_scope(element, ctx):
            ctx = ctx.previous
        if definition is not None and definition.context is not ABSENT:
            ctx = ctx.apply(definition.context, override_protected=True)
        if "@context" in element:
            ctx = ctx.apply(element["@context"], from_document=True)
        kinds = {ctx.expand_iri(k, vocab=True): k for k in element if k != "@context"}
        if "@value" in kinds:
            out.extend(self._value_object(element, kinds, ctx))
        elif "@list" in kinds:
            if len(kinds) > 1 and set(kinds) - {"@list", "@index"}:
                raise InvalidDocument("a JSON-LD list object may only contain @list and @index")
            out.append(self._list(element[kinds["@list"]], ctx, definition, graph, depth + 1))
        elif "@set" in kinds:
            if set(kinds) - {"@set", "@index"}:
                raise InvalidDocument("a JSON-LD set object may only contain @set and @index")
            self._values_of(element[kinds["@set"]], ctx, definition, graph, out, depth + 1)
        else:
            out.append(self._node(element, ctx, graph, depth))

    @staticmethod
    def _keeps_scope(element: dict[str, Any], ctx: ActiveContext) -> bool:
        """Value objects and bare references keep a type-scoped context (§5.1.2 step 7)."""
        expanded = [ctx.expand_iri(k, vocab=True) for k in element]
        return "@value" in expanded or expanded == ["@id"]

    def _node(self, element: dict[str, Any], ctx: ActiveContext, graph: str, depth: int) -> str:
        type_ctx = ctx
        type_values: list[str] = []
        for key, value in element.items():
            if key == "@type" or (key != "@context" and (d := type_ctx.terms.get(key)) is not None
                                  and d.iri == "@type"):
                for item in value if isinstance(value, list) else [value]:
                    if not isinstance(item, str):
                        raise InvalidDocument(f"@type values must be strings, got {item!r}")
                    type_values.append(item)
        for type_value in sorted(type_values):
            scoped = type_ctx.terms.get(type_value)
            if scoped is not None and scoped.context is not ABSENT:
                ctx = ctx.apply(scoped.context, propagate=False)

        subject: str | None = None
        properties: list[tuple[str, str, Any]] = []
        graph_values: list[Any] = []
        for key, value in element.items():
            if key == "@context":
                continue
            expanded = ctx.expand_iri(key, vocab=True)
            if expanded == "@id":
                if not isinstance(value, str):
                    raise InvalidDocument(f"@id must be a string, got {value!r}")
                self._count_chars(value)
                subject = self._node_term(ctx.expand_iri(value, vocab=False), value)
            elif expanded in ("@type", "@index"):
                continue
            elif expanded == "@graph":
                graph_values.append(value)
            elif expanded is None or expanded in _NODE_KEYWORDS_REJECTED:
                if expanded is None:
                    raise UnmappedTerm(f"JSON-LD term {key!r} maps to no IRI and would be silently "
                                       "dropped from what is signed (safe mode)", term=key)
                raise InvalidDocument(f"{key!r} ({expanded}) is not allowed in a node object")
            elif not is_absolute_iri(expanded):
                raise UnmappedTerm(f"JSON-LD term {key!r} maps to no absolute IRI ({expanded!r}) and "
                                   "would be silently dropped from what is signed (safe mode)", term=key)
            else:
                properties.append((key, expanded, value))
        if subject is None:
            subject = self._blank()
        for type_value in type_values:
            iri = type_ctx.expand_iri(type_value, vocab=True)
            if iri is None or not (is_absolute_iri(iri) or iri.startswith("_:")):
                raise UnmappedTerm(f"type {type_value!r} maps to no IRI and would be silently dropped "
                                   "from what is signed (safe mode)", term=type_value)
            self._emit(subject, RDF_TYPE, self._node_term(iri, type_value), graph)
        for key, iri, value in properties:
            objects: list[str] = []
            self._property(value, ctx, ctx.terms.get(key), graph, objects, depth + 1)
            predicate = f"<{iri}>"
            for obj in objects:
                self._emit(subject, predicate, obj, graph)
        inner = f" {subject}"
        for value in graph_values:
            self._values_of(value, ctx, None, inner, [], depth + 1)
        return subject

    def _property(self, value: Any, ctx: ActiveContext, definition: TermDefinition | None, graph: str,
                  out: list[str], depth: int) -> None:
        container = definition.container if definition is not None else frozenset()
        if definition is not None and definition.type_mapping == "@json":
            out.append(self._jsonliteral(value, depth))
        elif "@language" in container and isinstance(value, dict) and definition is not None:
            self._language_map(value, ctx, definition, out, depth)
        elif "@index" in container and isinstance(value, dict):
            for item in value.values():
                self._values_of(item, ctx, definition, graph, out, depth + 1)
        elif "@list" in container:
            out.append(self._list(value, ctx, definition, graph, depth))
        elif "@graph" in container:
            for item in value if isinstance(value, list) else [value]:
                if item is None:
                    continue
                name = self._blank()
                self._values_of(item, ctx, definition, f" {name}", [], depth + 1)
                out.append(name)
        else:
            self._values_of(value, ctx, definition, graph, out, depth)

    def _list(self, value: Any, ctx: ActiveContext, definition: TermDefinition | None, graph: str,
              depth: int) -> str:
        items: list[str] = []
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, list):
                raise InvalidDocument("lists of lists are not supported")
            self._values_of(item, ctx, definition, graph, items, depth + 1)
        head = RDF_NIL
        for obj in reversed(items):
            node = self._blank()
            self._emit(node, RDF_FIRST, obj, graph)
            self._emit(node, RDF_REST, head, graph)
            head = node
        return head

    def _language_map(self, value: dict[str, Any], ctx: ActiveContext, definition: TermDefinition,
                      out: list[str], depth: int) -> None:
        direction = definition.direction if definition.direction is not ABSENT else ctx.direction
        if direction is not None and value:
            refuse_direction()
        _check_keys(value)
        for language, texts in value.items():
            self._visit(depth)
            tag = None if ctx.expand_iri(language, vocab=True) == "@none" else language.lower()
            for text in texts if isinstance(texts, list) else [texts]:
                if text is None:
                    continue
                if not isinstance(text, str):
                    raise InvalidDocument("language map values must be strings")
                self._count_chars(text)
                out.append(literal(text, language=tag))

    def _jsonliteral(self, value: Any, depth: int = 0) -> str:
        self._bound_json(value, depth)
        text = canonicalize(value).decode("utf-8")
        self._count_chars(text)
        return literal(text, RDF_JSON)

    def _bound_json(self, value: Any, depth: int) -> None:
        """Count a JSON literal's values against the budget before RFC 8785 recurses into it."""
        self._visit(depth)
        if isinstance(value, dict):
            for key, item in value.items():
                self._count_chars(key)
                self._bound_json(item, depth + 1)
        elif isinstance(value, list):
            for item in value:
                self._bound_json(item, depth + 1)
        elif isinstance(value, str):
            self._count_chars(value)

    def _value_object(self, element: dict[str, Any], kinds: dict[str | None, str],
                      ctx: ActiveContext) -> list[str]:
        if set(kinds) - _VALUE_KEYS:
            raise InvalidDocument(f"invalid JSON-LD value object keys: {sorted(map(str, kinds))}")
        value = element[kinds["@value"]]
        datatype: str | None = None
        if "@type" in kinds:
            type_value = element[kinds["@type"]]
            if not isinstance(type_value, str):
                raise InvalidDocument("a value object's @type must be a string")
            datatype = ctx.expand_iri(type_value, vocab=True)
            if datatype == "@json":
                return [self._jsonliteral(value)]
            if datatype is None or not is_absolute_iri(datatype):
                raise UnmappedTerm(f"value type {type_value!r} maps to no IRI and would be silently "
                                   "dropped from what is signed (safe mode)", term=type_value)
        if value is None:
            return []
        if "@direction" in kinds and element[kinds["@direction"]] is not None:
            refuse_direction()
        language = element.get(kinds["@language"]) if "@language" in kinds else None
        if language is not None:
            if datatype is not None or not isinstance(value, str) or not isinstance(language, str):
                raise InvalidDocument("a language-tagged value must be a string without @type")
            self._count_chars(value)
            return [literal(value, language=language.lower())]
        if isinstance(value, dict | list):
            raise InvalidDocument("a JSON-LD @value must be a string, number, boolean or null")
        return [self._native(value, datatype)]

    def _scalar(self, value: Any, ctx: ActiveContext, definition: TermDefinition | None) -> str:
        type_mapping = definition.type_mapping if definition is not None else None
        if isinstance(value, str):
            self._count_chars(value)
            if type_mapping == "@id":
                return self._node_term(ctx.expand_iri(value, vocab=False), value)
            if type_mapping == "@vocab":
                iri = ctx.expand_iri(value, vocab=True)
                if iri is None or not (is_absolute_iri(iri) or iri.startswith("_:")):
                    raise UnmappedTerm(f"vocabulary value {value!r} maps to no IRI and would be silently "
                                       "dropped from what is signed (safe mode)", term=value)
                return self._node_term(iri, value)
            if type_mapping is not None and type_mapping != "@none":
                return literal(value, type_mapping)
            language, direction = ctx.language, ctx.direction
            if definition is not None:
                language = ctx.language if definition.language is ABSENT else definition.language
                direction = ctx.direction if definition.direction is ABSENT else definition.direction
            if direction is not None:
                refuse_direction()
            return literal(value, language=language)
        datatype = type_mapping if type_mapping not in (None, "@id", "@vocab", "@none") else None
        return self._native(value, datatype)

    def _native(self, value: Any, datatype: str | None) -> str:
        """Literal of a JSON string/boolean/number (JSON-LD 1.1 §8.6 Object to RDF, steps 8-12)."""
        if isinstance(value, str):
            self._count_chars(value)
            return literal(value, datatype or XSD_STRING)
        if isinstance(value, bool):
            text = "true" if value else "false"
            return f'"{text}"^^<{datatype}>' if datatype else f'"{text}"^^{XSD_BOOLEAN}'
        if isinstance(value, int | float):
            if isinstance(value, float) and not math.isfinite(value):
                raise InvalidDocument("JSON numbers must be finite")
            integral = isinstance(value, int) or value.is_integer()
            if not integral or datatype == XSD_DOUBLE or abs(value) >= 1e21:
                return f'"{double(float(value))}"^^<{datatype or XSD_DOUBLE}>'
            return f'"{int(value)}"^^<{datatype or XSD_INTEGER}>'
        raise InvalidDocument(f"unsupported JSON value {value!r}")
