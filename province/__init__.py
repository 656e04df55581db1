"""A province: county runs fanned out on Prefect workers, then the checks that cross county lines.

store.py   — what a county run exports to the shared store (Parquet, through fsspec)
cross.py   — the cross-county stage: sql/province/*.sql over every county's export
publish.py — the province's publication: report, county workbooks, case history
"""
