"""SHA-256 hex of a secret: how API tokens, integration keys and feed tokens are stored.

One function so that the CLI's `hash-key`, rotas/ declarations and the stored keys can
never disagree on how a key is hashed.
"""
from __future__ import annotations

import hashlib


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
