"""Pieces every layer uses (errors shown to users, content hashes and stamps).

They live in the lowest layer, ``knowledge``, because ``tutor`` and ``ui`` build on it and
``knowledge`` must not import them; ``common`` says they are not about the course.
"""
