"""HTTP routes and event handlers, one Chalice Blueprint per surface.

Each route parses the request, calls one service function and answers; failures are the
services' own exceptions (chalicelib.errors), answered by `http.guarded`.

  intake        what sources post: PagerDuty's /v2/enqueue, integration keys, heartbeats, Opsgenie
  webhooks      Twilio (SMS, voice, status callbacks) and Slack (buttons)
  incidents     the incidents API, the incident list, one-click links
  rotas         who is on call, shifts, overrides, iCal feeds
  integrations  a service's integration keys
  review        managers' reports and dashboard
  jobs          schedules (sweeper, notices) and the SQS timer queue
  docs          the OpenAPI 3.1 document of the public API (chalicelib/openapi.json)
"""
