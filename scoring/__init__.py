"""parindex: score a department's PAR INDEX self-assessment from YAML rules and evidence."""

__version__ = "0.1.0"
