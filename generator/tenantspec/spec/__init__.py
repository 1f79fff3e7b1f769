"""The spec: YAML documents read with their locations, validated against the JSON Schemas
and the rules, into the frozen model every later stage reads."""
