#!/usr/bin/env python3
"""Cuts the Stripe component schemas the contract test needs out of Stripe's published OpenAPI
spec, so the repository carries half a megabyte instead of four.

    python3 cut_stripe_spec.py openapi.spec3.json fixtures3.json > stripe-schemas.json

Input: `latest/openapi.spec3.json` of the stripe/openapi repository at the API version the
sandbox's schemas follow (2026-01-28.clover: git blob e6c3ce7de8c5e8472cd59d754cf13ef3e03fb000,
also shipped byte-identical as `spec/openapi.spec3.json` in the stripe-sdk 0.3.0 crate).

The second input is `openapi/fixtures3.json` of the same repository: Stripe's example of each
object as its API sends it. Its field names that the schema lists without marking them required
become `fixture_fields`, what Stripe sends beyond the required minimum; embedded lists are left
out (`charge.refunds`: sent only when expanded since 2022-11-15). Its field names the public
spec does not list become `fixture_extra_fields`: Stripe still sends them though only its SDK
spec documents them (`subscription_item.plan`, which async-stripe requires).

Output: every schema reachable by `$ref` from the object types the sandbox returns (ROOTS),
verbatim except that documentation (`description`, `title`) and vendor extensions (`x-…`)
are dropped at schema level. Property names are never touched. One schema per line, sorted,
so a regeneration diffs line by line.
"""

import json
import sys

# The objects the sandbox's Stripe API returns or delivers in events.
ROOTS = [
    "billing_portal.session",
    "charge",
    "checkout.session",
    "coupon",
    "customer",
    "deleted_customer",
    "discount",
    "error",
    "event",
    "invoice",
    "item",
    "line_item",
    "payment_intent",
    "payment_method",
    "price",
    "product",
    "promotion_code",
    "refund",
    "setup_intent",
    "subscription",
    "subscription_item",
]


def strip(schema):
    """Drops documentation and vendor extensions from a schema, recursing into sub-schemas."""
    if isinstance(schema, list):
        return [strip(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in ("description", "title") or key.startswith("x-"):
            continue
        if key == "properties":
            # Keys here are property names (a property may be called `description`).
            out[key] = {name: strip(sub) for name, sub in value.items()}
        else:
            out[key] = strip(value)
    return out


def is_list(schema):
    """Whether a property is an embedded list object (`charge.refunds`, `customer.sources`):
    current API versions send those only when expanded, whatever the fixture shows."""
    return schema.get("properties", {}).get("object", {}).get("enum") == ["list"]


def references(schema, found):
    """Collects the component names a stripped schema refers to."""
    if isinstance(schema, list):
        for item in schema:
            references(item, found)
    elif isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value.rsplit("/", 1)[-1])
            else:
                references(value, found)


def main():
    spec = json.load(open(sys.argv[1]))
    fixtures = json.load(open(sys.argv[2]))["resources"]
    schemas = spec["components"]["schemas"]
    cut = {}
    pending = list(ROOTS)
    while pending:
        name = pending.pop()
        if name in cut:
            continue
        cut[name] = strip(schemas[name])
        found = set()
        references(cut[name], found)
        pending.extend(sorted(found - cut.keys()))
    lines = [
        json.dumps(name) + ":" + json.dumps(cut[name], separators=(",", ":"), sort_keys=True)
        for name in sorted(cut)
    ]
    fixture_fields = {}
    fixture_extra_fields = {}
    for name in ROOTS:
        schema = cut[name]
        if name in fixtures and "properties" in schema:
            listed = {
                field
                for field, sub in schema["properties"].items()
                if field not in schema.get("required", []) and not is_list(sub)
            }
            fixture_fields[name] = sorted(listed & set(fixtures[name]))
            extra = sorted(set(fixtures[name]) - set(schema["properties"]))
            if extra:
                fixture_extra_fields[name] = extra
    header = json.dumps(
        {
            "api_version": spec["info"]["version"],
            "source": "stripe/openapi latest/openapi.spec3.json (components.schemas), cut by "
            "cut_stripe_spec.py",
            "roots": ROOTS,
        },
        separators=(",", ":"),
    )
    sys.stdout.write(
        '{"info":' + header
        + ',\n"fixture_fields":' + json.dumps(fixture_fields, separators=(",", ":"))
        + ',\n"fixture_extra_fields":' + json.dumps(fixture_extra_fields, separators=(",", ":"))
        + ',\n"schemas":{\n' + ",\n".join(lines) + "\n}}\n"
    )


if __name__ == "__main__":
    main()
