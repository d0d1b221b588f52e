"""Reports: the arithmetic (pure: plain functions over plain data, no I/O) and the review
queries that feed it from the store.

calendar   a team's working calendar: office hours, and the categories other hours fall in
astreinte  on-call hours, interventions, rest and fairness per person
kpis       response KPIs, SLA breaches, pages per person, the coverage advisor
review     reads incidents (the `month` index) and shifts, shapes the API's answers and CSV
"""
