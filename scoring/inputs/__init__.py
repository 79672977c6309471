"""The Office's formats read in: evidence workbooks, dossier exports, province criteria tables."""
