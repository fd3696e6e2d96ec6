"""Further reading: how passages of the course material are listed in a lesson."""

from knowledge.ingest.passage_search import further_reading

__all__ = ["further_reading"]
