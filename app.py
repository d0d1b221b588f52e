"""The Chalice app: one Blueprint per surface (chalicelib/routes), registered here.

Routes parse the request and call one service; everything else lives in chalicelib/.
"""
from __future__ import annotations

from chalice import Chalice

from chalicelib import metrics
from chalicelib.routes import (
    details,
    docs,
    health,
    hotline,
    incidents,
    intake,
    integrations,
    jobs,
    me,
    review,
    rotas,
    tokens,
    webhooks,
)
from chalicelib.routes.http import learn_public_url, remember_language

app = Chalice(app_name="astreinte")

for surface in (intake, webhooks, hotline, incidents, rotas, integrations, review, jobs, docs, tokens,
                health, me, details):
    app.register_blueprint(surface.bp)
app.register_middleware(learn_public_url, "http")
app.register_middleware(remember_language, "http")
app.register_middleware(metrics.per_invocation, "all")  # metrics flushed once per invocation
