"""The operator dashboard: server-rendered pages, live updates over SSE (ADR 0005)."""
