"""Astreinte: on-call paging and escalation, one package per stage of the data flow."""
