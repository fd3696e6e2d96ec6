"""Ingesting a teacher's own course material: lecture notes, slides and transcripts.

``erica kb ingest PATH...`` (:mod:`tutor.commands.ingest`) reads the files (:mod:`readers`),
cuts them into passages (:mod:`passages`), finds concept candidates and merges them into
known concepts (:mod:`discovery`), infers prerequisite links with a confidence and their
evidence (:mod:`prerequisites`), stores the passages in ChromaDB beside the concepts
(:mod:`store`) and writes reviewable concept cards (:mod:`cards_out`). :mod:`pipeline` ties
them together; :mod:`knowledge.passages` lets retrieval show the passages behind its concepts.
"""
