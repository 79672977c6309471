"""The core of parindex: errors, file safety, YAML, criteria, rules, evidence, the engine."""
