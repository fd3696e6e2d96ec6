"""Language-model backends behind one interface (see :mod:`tutor.llm.base`)."""
