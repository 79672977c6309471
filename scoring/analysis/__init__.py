"""What is computed from a scorecard: explanations, audit, appraisal comparison, what-if, simulation, plans, rule fixtures."""
