"""The data layer: tables, engines, reference data, imports, the supervision workflows. Never imports Streamlit.

Its parts, floor by floor (each imports only from floors below it, checked by tests/test_layers.py):
1 reference — closed sets, regions, counties, workdays, problem reports, identity shapes;
2 store — settings, engines, dialects, schema, bulk load, database set-up, data version;
3 identity — accounts, sessions, scope, audit;
4 imports — reading, checking and loading case files; records — backup of the app's own tables;
5 supervision — the 督办 ledger, the 12388 cycle, the repeat-matters campaign, the document register;
6 demo — the demo province's generators and loader;
7 cli (python -m data_access).
"""
