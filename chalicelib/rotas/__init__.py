"""Rotas: who is on call, from rotas/*.yaml in git to the answer at an instant.

  load        rotas/*.yaml -> one validated bundle (file:line errors); no I/O but the files
  shifts      shift arithmetic: who holds a layer at an instant, shifts over a period (pure)
  directory   the synced bundle, read from DynamoDB and cached per container; lookups
  overrides   swaps made through the API, merged into the bundle by the directory
  queries     the questions the API and CLI answer (who is on call, a person's shifts)
  ical        iCal rendering of shifts (pure); feeds: the feed tokens
(The bundle's types are in chalicelib.model; handoff notices in chalicelib.notices.)
"""
