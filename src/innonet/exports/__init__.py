"""Export my data: everything an organisation owns, in one ZIP of CSV and JSON files."""
