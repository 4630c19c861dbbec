"""The weekly meeting pack: section charts (PNG), the PPTX deck and the XLSX ledger. No streamlit here."""
