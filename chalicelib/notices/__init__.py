"""Messages sent on a schedule, not because of an incident: handoff notices before a shift
and at handoff; rest warnings and the monthly summary for managers.  Each is sent once
however often its job runs (store.first_time), through chalicelib.notify's channels.
"""
