"""The Asclepius synthesis: case reports -> discharge summaries -> questions and answers from a teacher model."""
