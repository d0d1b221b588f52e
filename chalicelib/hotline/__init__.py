"""The on-call hotline (astreinte téléphonique): customers call the support number outside
office hours, choose a reason, and are put through to whoever is on call for it.

  logic   the decisions, pure: office hours, the menu and its languages, who rings next,
          how long the caller may wait
  twiml   what Twilio is told to do (twilio's VoiceResponse)
  calls   the call's webhooks: the incident opened for it, held while the call is routed,
          its timeline, voicemail, and the pages released when nobody answered

Routes: chalicelib/routes/hotline.py.  Configuration: a service's `hotline:` in rotas/.
"""
