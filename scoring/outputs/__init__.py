"""Results written out: text, markdown, CSV, JSON, the xlsx self-scoring table, the docx report."""
