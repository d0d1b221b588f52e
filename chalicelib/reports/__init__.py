"""Report arithmetic: plain functions over plain data, no I/O (chalicelib.review does it).

calendar   a team's working calendar: office hours, and the categories other hours fall in
astreinte  on-call hours, interventions, rest and fairness per person
kpis       response KPIs, SLA breaches, pages per person, the coverage advisor
"""
