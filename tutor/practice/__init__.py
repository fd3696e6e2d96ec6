"""Practice and progress: questions, mastery per concept, what to study next."""
