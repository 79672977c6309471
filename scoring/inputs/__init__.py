"""Readers of the inputs parindex scores from: evidence workbooks, dossier exports, criteria tables."""
