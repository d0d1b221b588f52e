"""The Chalice app: one Blueprint per surface (chalicelib/routes), registered here.

Routes parse the request and call one service; everything else lives in chalicelib/.
"""
from __future__ import annotations

from chalice import Chalice

from chalicelib.routes import docs, incidents, intake, integrations, jobs, review, rotas, tokens, webhooks

app = Chalice(app_name="astreinte")

for surface in (intake, webhooks, incidents, rotas, integrations, review, jobs, docs, tokens):
    app.register_blueprint(surface.bp)
