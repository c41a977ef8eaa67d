"""The monthly assessment (月度考核): indicators, schemes, draft → published, frozen months.

- `indicators`: every indicator's definition and the aggregate queries that compute it;
- `schemes`: scheme validation, the formula language and scoring;
- `services`: compute a month, adjust, publish, correct (each owns its transaction);
- `selectors`: what the pages read (rankings, cards, trend, drill-down), scoped;
- `views`, `urls`, `forms`, `exports`, `tasks`, `admin`.

docs/assessment.md explains the definitions and the life of a month.
"""
