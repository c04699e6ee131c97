"""The W3C Reconciliation Service API 0.2 JSON schemas (tests/data/reconciliation-0.2, copied from the
spec), as validators."""
import json
from pathlib import Path

from jsonschema import Draft7Validator
from referencing import Registry
from referencing.jsonschema import DRAFT7

SPEC = Path(__file__).resolve().parent / "data" / "reconciliation-0.2"


def _registry() -> Registry:
    resources = []
    for p in sorted((SPEC / "schemas").glob("*.json")):
        schema = json.loads(p.read_text(encoding="utf-8"))
        res = DRAFT7.create_resource(schema)
        resources += [(schema["$id"], res), (schema["$id"].rstrip("#"), res)]
    return Registry().with_resources(resources)


REGISTRY = _registry()


def validator(name: str) -> Draft7Validator:
    """The validator of schemas/NAME.json (manifest, reconciliation-query-batch, …)."""
    schema = json.loads((SPEC / "schemas" / f"{name}.json").read_text(encoding="utf-8"))
    return Draft7Validator(schema, registry=REGISTRY)


def examples(kind: str, valid: bool = True) -> dict[str, dict]:
    folder = SPEC / "examples" / kind / ("valid" if valid else "invalid")
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))}
