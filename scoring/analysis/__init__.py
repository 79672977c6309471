"""What parindex derives from scored assessments: explanations, audits, comparisons, what-if, plans, rule fixtures."""
