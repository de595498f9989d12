"""``credentialSchema`` checks (VC DM 2.0 §4.11; W3C VC JSON Schema §2).

A ``JsonSchema`` entry names a JSON Schema by ``id``; a ``JsonSchemaCredential`` entry names a
credential whose ``credentialSubject.jsonSchema`` holds the schema (and whose own proof must
verify). Schemas come only from the ``resolver`` the caller passes (a DID-linked resource on the
ledger, an operator-registered file): never from the network. ``$ref`` to another schema goes
through the same resolver, at most :data:`MAX_SCHEMA_RETRIEVALS` times per credential.

The dialect follows ``$schema`` (VC JSON Schema §3: Draft 2020-12, 2019-09 or 7; 2020-12 when
absent). The schema is applied to the credential without its ``proof`` (the securing mechanism is
not part of the data the schema describes). At most :data:`MAX_REPORTED_ERRORS` violations are
reported per schema.

Limit: JSON Schema ``pattern`` uses Python regular expressions, whose cost cannot be bounded in
advance; schemas therefore come from trusted registries, never from the credential itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import referencing
import referencing.exceptions
import referencing.jsonschema
from jsonschema import Draft7Validator, Draft201909Validator, Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator

from ledgr.errors import InvalidDocument, LedgrError, NotFound, VerificationFailed
from ledgr.vc.credential import as_list, check_document_size, types_of
from ledgr.vc.dates import parse_date_time_stamp

SchemaResolver = Callable[[str], dict[str, Any]]
VerifySchemaCredential = Callable[[dict[str, Any]], list[LedgrError]]

MAX_SCHEMA_RETRIEVALS = 16
MAX_REPORTED_ERRORS = 10

DIALECTS: dict[str, type[Validator]] = {
    "https://json-schema.org/draft/2020-12/schema": Draft202012Validator,
    "https://json-schema.org/draft/2019-09/schema": Draft201909Validator,
    "http://json-schema.org/draft-07/schema": Draft7Validator,
}

FORMAT_CHECKER = FormatChecker()


@FORMAT_CHECKER.checks("date-time", raises=InvalidDocument)
def _date_time(value: object) -> bool:
    """RFC 3339 ``date-time`` (with offset), checked without the optional rfc3339-validator package."""
    if isinstance(value, str):
        parse_date_time_stamp(value.replace("t", "T", 1).replace("z", "Z"), "date-time")
    return True


def check_credential_schemas(credential: dict[str, Any], resolver: SchemaResolver | None, *,
                             verify_schema_credential: VerifySchemaCredential | None = None,
                             ) -> list[LedgrError]:
    """Validate ``credential`` against each of its ``credentialSchema`` entries; return the errors."""
    if resolver is None:
        return [InvalidDocument("credentialSchema cannot be checked: no schema resolver was given",
                                reason="no-schema-resolver")]
    errors: list[LedgrError] = []
    budget = _Budget(resolver)
    instance = {key: value for key, value in credential.items() if key != "proof"}
    for entry in as_list(credential.get("credentialSchema")):
        try:
            schema = _schema_of(entry, budget, verify_schema_credential)
            errors.extend(validate_against(instance, schema, budget, str(entry["id"])))
        except LedgrError as exc:
            errors.append(exc)
    return errors


def validate_against(instance: dict[str, Any], schema: dict[str, Any], budget: _Budget | None = None,
                     schema_id: str = "schema") -> list[LedgrError]:
    """Apply one JSON Schema to ``instance``; a broken schema is an error, not a pass."""
    validator_class = _dialect(schema, schema_id)
    try:
        validator_class.check_schema(schema)
    except SchemaError as exc:
        raise InvalidDocument(f"schema {schema_id} is not a valid JSON Schema: {exc.message}",
                              reason="invalid-schema") from exc
    registry: referencing.Registry[Any] = referencing.Registry(  # type: ignore[call-arg]
        retrieve=budget.retrieve if budget is not None else _no_retrieval)
    validator = validator_class(schema, registry=registry, format_checker=FORMAT_CHECKER)
    errors: list[LedgrError] = []
    try:
        for error in validator.iter_errors(instance):
            location = "/" + "/".join(str(part) for part in error.absolute_path)
            errors.append(VerificationFailed(
                f"credential violates schema {schema_id} at {location}: {error.message}",
                reason="schema-violation", schema=schema_id, path=location))
            if len(errors) >= MAX_REPORTED_ERRORS:
                break
    except referencing.exceptions.Unresolvable as exc:
        raise InvalidDocument(f"schema {schema_id} has a $ref that cannot be resolved: {exc}",
                              reason="unresolvable-ref") from exc
    return errors


class _Budget:
    """Resolves schemas through the caller's resolver, bounded and with clear errors."""

    def __init__(self, resolver: SchemaResolver) -> None:
        self._resolver = resolver
        self._left = MAX_SCHEMA_RETRIEVALS

    def fetch(self, uri: str) -> dict[str, Any]:
        if self._left <= 0:
            raise InvalidDocument(f"more than {MAX_SCHEMA_RETRIEVALS} schema documents are needed",
                                  reason="too-many-schemas")
        self._left -= 1
        try:
            document = self._resolver(uri)
        except LookupError as exc:
            raise NotFound(f"schema {uri} is not known to this verifier", reason="schema-not-found") from exc
        if not isinstance(document, dict):
            raise InvalidDocument(f"schema {uri} is not a JSON object", reason="invalid-schema")
        check_document_size(document)
        return document

    def retrieve(self, uri: str) -> referencing.Resource[Any]:
        document = self.fetch(uri)
        return referencing.Resource.from_contents(
            document, default_specification=referencing.jsonschema.DRAFT202012)


def _no_retrieval(uri: str) -> referencing.Resource[Any]:
    raise InvalidDocument(f"schema reference {uri} is not resolvable here", reason="unresolvable-ref")


def _schema_of(entry: object, budget: _Budget, verify: VerifySchemaCredential | None) -> dict[str, Any]:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise InvalidDocument("each credentialSchema needs an 'id'", property="credentialSchema")
    kinds = types_of(entry, "credentialSchema")
    if kinds not in (["JsonSchema"], ["JsonSchemaCredential"]):
        raise InvalidDocument(f"unsupported credentialSchema type {kinds!r}; ledgr checks JsonSchema "
                              "and JsonSchemaCredential", reason="unsupported-schema-type")
    document = budget.fetch(entry["id"])
    if kinds == ["JsonSchema"]:
        return document
    if "JsonSchemaCredential" not in as_list(document.get("type")):
        raise InvalidDocument(f"{entry['id']} is not a JsonSchemaCredential", reason="invalid-schema")
    if verify is None:
        raise InvalidDocument("a JsonSchemaCredential needs proof verification, which is unavailable",
                              reason="invalid-schema")
    problems = verify(document)
    if problems:
        raise VerificationFailed(f"schema credential {entry['id']} does not verify: "
                                 + "; ".join(problem.detail for problem in problems),
                                 reason="schema-credential-unverified")
    subject = document.get("credentialSubject")
    schema = subject.get("jsonSchema") if isinstance(subject, dict) else None
    if not isinstance(schema, dict):
        raise InvalidDocument(f"{entry['id']} has no credentialSubject.jsonSchema object",
                              reason="invalid-schema")
    return schema


def _dialect(schema: dict[str, Any], schema_id: str) -> type[Validator]:
    if not isinstance(schema, dict):
        raise InvalidDocument(f"schema {schema_id} is not a JSON object", reason="invalid-schema")
    dialect = schema.get("$schema", "https://json-schema.org/draft/2020-12/schema")
    dialect = dialect.removesuffix("#") if isinstance(dialect, str) else dialect
    if dialect not in DIALECTS:
        raise InvalidDocument(f"schema {schema_id} uses unsupported $schema {dialect!r}; "
                              "ledgr supports Draft 2020-12, 2019-09 and 7", reason="invalid-schema")
    return DIALECTS[dialect]
