"""The core: errors, YAML reading, criteria, rules, evidence, the engine, the scorecard (no I/O formats)."""
