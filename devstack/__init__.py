"""The local stack: DynamoDB Local, the API, the timer runner and the fake providers.

Used by `make run` (devstack.run) and by the tests (tests/conftest.py) alike, so what a
developer clicks through is what the tests exercise.  Nothing here is deployed.
"""
