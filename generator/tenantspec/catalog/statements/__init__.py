"""Replay, one module per family of statements: each function applies one statement kind to
the schema state (``tenantspec.catalog.state``)."""
