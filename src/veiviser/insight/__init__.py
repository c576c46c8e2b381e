"""Insight: what members ask about, how well they are served, what changes.

Daily rollups per Oslo day (``rollups``), the dashboard's figures read from
them (``metrics``), anomaly flags per intent (``trends``), charts as SVG with
their data (``charts``), alerts (``alerts``), anonymous visitor hashes
(``visitors``) and synthetic traffic for demos (``simulation``). Nothing here
knows HTTP.
"""
