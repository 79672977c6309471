"""Readers of the inputs parindex takes from an Office: evidence workbooks, dossier exports, a province's criteria table."""
