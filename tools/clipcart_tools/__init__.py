"""The developer's tools: never imported by a service, never in an image (ADR 22)."""
