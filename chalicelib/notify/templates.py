"""Every text a person reads, in French and English; the person's language picks one.

Reply codes (also in the README): 4 <n> or ACK/ACQ <n> acknowledges, 6 <n> or
RES/CLOS <n> resolves, 5 <n> or ESC <n> escalates now.  On a call: 4, 6, 5.
"""
from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from .. import clock
from ..severity import AFTER_FEMININE, LABELS

TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "sms_page": "[Astreinte] #{number} {sev_upper} {service} : {summary}\n"
                    "Répondez 4 {number} pour prendre en charge, 6 {number} pour clore. {link}",
        "voice_page": "Bonjour {name}. Ici Astreinte. Incident {number}, gravité {sev_f}, "
                      "service {service} : {summary}. Appuyez sur 4 pour prendre en charge, "
                      "6 pour clore, 5 pour escalader, 2 pour recevoir les détails par SMS, "
                      "1 pour réécouter.",
        "voice_goodbye": "Aucune touche reçue. L'escalade continue. Au revoir.",
        "voice_done": "C'est noté. {result} Au revoir.",
        "slack_page": ":rotating_light: *#{number} {sev_upper}* — {service}\n{summary}",
        "slack_source": "Source : {source} · déclenché à {when}",
        "btn_ack": "Prendre en charge", "btn_resolve": "Clore", "btn_escalate": "Escalader",
        "link_page": "Incident #{number} ({state}) : {summary}",
        "link_hint": "Rien n'est fait tant que vous n'appuyez pas sur le bouton.",
        "taken": "[Astreinte] #{number} pris en charge par {by} ({how}).",
        "resolved": "[Astreinte] #{number} clos par {by} ({how}).",
        "slack_taken": ":white_check_mark: Pris en charge par {by} ({how}) à {at} UTC",
        "slack_resolved": ":heavy_check_mark: Clos par {by} ({how}) à {at} UTC",
        "ok_ack": "#{number} : vous l'avez pris en charge. L'escalade est arrêtée.",
        "ok_resolve": "#{number} : clos. Merci.",
        "ok_escalate": "#{number} : escaladé au niveau suivant.",
        "already_ack": "#{number} est déjà pris en charge par {by}.",
        "already_resolved": "#{number} est déjà clos (par {by}).",
        "not_paged": "Vous n'avez pas été appelé pour #{number} : rien n'a été changé.",
        "no_incident": "Aucun incident #{number}.",
        "help": "Astreinte : répondez 4 <n°> pour prendre en charge, 6 <n°> pour clore, "
                "5 <n°> pour escalader (ex. 4 12). ACQ/ACK, CLOS/RES et ESC marchent aussi.",
        "unknown_person": "Ce numéro n'est pas dans l'annuaire d'astreinte : rien n'a été changé. "
                          "This number is not in the on-call directory: nothing was changed.",
        "unknown_slack_user": "Votre compte Slack n'est pas dans l'annuaire d'astreinte : rien n'a été "
                              "changé. Demandez à votre administrateur d'astreinte d'y ajouter votre compte "
                              "Slack. Your Slack account is not in the on-call directory: nothing was "
                              "changed. Ask your on-call admin to add your Slack account to the directory.",
        "unknown_button": "Ce bouton ne correspond à aucune action d'Astreinte : rien n'a été changé.",
        "by_source": "l'outil de supervision", "by_ticket_tool": "l'outil de tickets",
        "try_again": "Astreinte n'a pas pu enregistrer votre réponse : renvoyez-la dans un instant. "
                     "Astreinte could not record your answer: please send it again in a moment.",
        "handoff_soon": "[Astreinte] {rota} — {layer} : vous êtes d'astreinte du {start} au {end} "
                        "({tz}).",
        "handoff_now": ":bell: {rota} — {layer} : {name} est d'astreinte jusqu'au {end} ({tz}).",
        "rest_warning": "[Astreinte] Repos : {name} est intervenu(e) de nuit jusqu'à {end} (incident "
                        "#{number}) et reprend à {next} ({kind}) : {hours} h de repos, moins de {rest} h. "
                        "Merci d'adapter son heure de reprise.",
        "summary_head": "*Astreinte — {team}, {month}*\nIncidents : {count} · délai de prise en charge "
                        "médian {tta} · p90 {tta90} · délai de résolution médian {ttr} · escaladés {esc} · "
                        "résolus au premier contact {fcr} · SLA manqués : {sla_ack} prise en charge, "
                        "{sla_res} résolution",
        "summary_table": "Heures d'astreinte et d'intervention (soir de semaine / nuit / week-end / férié) :",
        "summary_link": "Détail et CSV pour la paie : {url}",
        "summary_subject": "[Astreinte] {team} — bilan de {month}",
        "taken_subject": "[Astreinte] #{number} pris en charge par {by}",
        "bundle": "[Astreinte] {count} nouveaux incidents : {list}. "
                  "Répondez 4 pour tous les prendre en charge.",
        "bundle_subject": "[Astreinte] {count} nouveaux incidents",
        "bundle_done": "Pris en charge : {list}.",
        "undeliverable": "[Astreinte] #{number} : {name} ne peut pas être joint(e) par {channel} ({error}). "
                         "Le message n'est pas renvoyé ; vérifiez ses coordonnées dans rotas/.",
        "undeliverable_subject": "[Astreinte] #{number} : {name} injoignable par {channel}",
        "resolved_subject": "[Astreinte] #{number} clos par {by}",
        "rest_subject": "[Astreinte] Repos insuffisant : {name}",
        "handoff_subject": "[Astreinte] Votre astreinte {rota} — {layer}",
        "email_page_subject": "[Astreinte] #{number} {sev_upper} {service} : {summary}",
        "email_page": "Incident #{number} — gravité {sev_f}, service {service}\n\n{summary}\n\n"
                      "Source : {source} · déclenché à {when}\n\n{links}",
        "hotline_greeting": "Bonjour, vous êtes au support {service}, en dehors des heures de bureau.",
        "hotline_option": "Pour : {label}, tapez {digit}.",
        "hotline_switch_to": "Pour le français, tapez 9.",
        "hotline_no_choice": "Nous n'avons pas reçu votre choix. Au revoir.",
        "hotline_wait": "Merci. Nous vous mettons en relation avec la personne d'astreinte. "
                        "L'attente est de {minutes} minute(s) au plus.",
        "hotline_next": "Merci de patienter encore un instant.",
        "hotline_voicemail": "Personne n'est disponible pour le moment. Laissez votre message après le bip, "
                             "puis raccrochez : il sera transmis à l'astreinte.",
        "hotline_thanks": "Merci, votre message est transmis à l'astreinte. Au revoir.",
        "hotline_whisper": "Appel client {service}, motif : {reason}. Appuyez sur 1 pour prendre l'appel.",
        "hotline_summary": "Appel client {service} — {reason} — {caller}",
    },
    "en": {
        "sms_page": "[Astreinte] #{number} {sev_upper} {service}: {summary}\n"
                    "Reply 4 {number} to acknowledge, 6 {number} to resolve. {link}",
        "voice_page": "Hello {name}. This is Astreinte. Incident {number}, severity {sev}, "
                      "service {service}: {summary}. Press 4 to acknowledge, 6 to resolve, "
                      "5 to escalate, 2 to get the details by text message, 1 to hear this again.",
        "voice_goodbye": "No key received. Escalation continues. Goodbye.",
        "voice_done": "Done. {result} Goodbye.",
        "slack_page": ":rotating_light: *#{number} {sev_upper}* — {service}\n{summary}",
        "slack_source": "Source: {source} · triggered at {when}",
        "btn_ack": "Acknowledge", "btn_resolve": "Resolve", "btn_escalate": "Escalate",
        "link_page": "Incident #{number} ({state}): {summary}",
        "link_hint": "Nothing happens until you press the button.",
        "taken": "[Astreinte] #{number} acknowledged by {by} ({how}).",
        "resolved": "[Astreinte] #{number} resolved by {by} ({how}).",
        "slack_taken": ":white_check_mark: Acknowledged by {by} ({how}) at {at} UTC",
        "slack_resolved": ":heavy_check_mark: Resolved by {by} ({how}) at {at} UTC",
        "ok_ack": "#{number}: you have it. Escalation stopped.",
        "ok_resolve": "#{number}: resolved. Thank you.",
        "ok_escalate": "#{number}: escalated to the next level.",
        "already_ack": "#{number} is already acknowledged by {by}.",
        "already_resolved": "#{number} is already resolved (by {by}).",
        "not_paged": "You were not paged for #{number}: nothing was changed.",
        "no_incident": "There is no incident #{number}.",
        "help": "Astreinte: reply 4 <n> to acknowledge, 6 <n> to resolve, 5 <n> to escalate "
                "(e.g. 4 12). ACK/ACQ, RES/CLOS and ESC work too.",
        "unknown_person": "This number is not in the on-call directory: nothing was changed. "
                          "Ce numéro n'est pas dans l'annuaire d'astreinte : rien n'a été changé.",
        "unknown_slack_user": "Your Slack account is not in the on-call directory: nothing was changed. "
                              "Ask your on-call admin to add your Slack account to the directory. Votre "
                              "compte Slack n'est pas dans l'annuaire d'astreinte : rien n'a été changé. "
                              "Demandez à votre administrateur d'astreinte d'y ajouter votre compte Slack.",
        "unknown_button": "This button is no Astreinte action: nothing was changed.",
        "by_source": "the monitoring tool", "by_ticket_tool": "the ticketing tool",
        "try_again": "Astreinte could not record your answer: please send it again in a moment. "
                     "Astreinte n'a pas pu enregistrer votre réponse : renvoyez-la dans un instant.",
        "handoff_soon": "[Astreinte] {rota} — {layer}: you are on call from {start} to {end} ({tz}).",
        "handoff_now": ":bell: {rota} — {layer}: {name} is now on call until {end} ({tz}).",
        "rest_warning": "[Astreinte] Rest: {name} worked at night until {end} (incident #{number}) and "
                        "is due back at {next} ({kind}): {hours} h of rest, less than {rest} h. "
                        "Please adjust their start time.",
        "summary_head": "*Astreinte — {team}, {month}*\nIncidents: {count} · time to acknowledge median "
                        "{tta} · p90 {tta90} · time to resolve median {ttr} · escalated {esc} · "
                        "first-contact resolution {fcr} · SLA missed: {sla_ack} acknowledge, "
                        "{sla_res} resolve",
        "summary_table": "On-call and intervention hours (weekday evening / night / weekend / holiday):",
        "summary_link": "Details and payroll CSV: {url}",
        "summary_subject": "[Astreinte] {team} — {month} in review",
        "taken_subject": "[Astreinte] #{number} acknowledged by {by}",
        "bundle": "[Astreinte] {count} new incidents: {list}. Reply 4 to acknowledge them all.",
        "bundle_subject": "[Astreinte] {count} new incidents",
        "bundle_done": "Acknowledged: {list}.",
        "undeliverable": "[Astreinte] #{number}: {name} cannot be reached by {channel} ({error}). "
                         "It is not sent again; please check their details in rotas/.",
        "undeliverable_subject": "[Astreinte] #{number}: {name} unreachable by {channel}",
        "resolved_subject": "[Astreinte] #{number} resolved by {by}",
        "rest_subject": "[Astreinte] Short rest: {name}",
        "handoff_subject": "[Astreinte] Your on-call shift {rota} — {layer}",
        "email_page_subject": "[Astreinte] #{number} {sev_upper} {service}: {summary}",
        "email_page": "Incident #{number} — severity {sev}, service {service}\n\n{summary}\n\n"
                      "Source: {source} · triggered at {when}\n\n{links}",
        "hotline_greeting": "Hello, you have reached {service} support, outside office hours.",
        "hotline_option": "For: {label}, press {digit}.",
        "hotline_switch_to": "For English, press 9.",
        "hotline_no_choice": "We did not receive your choice. Goodbye.",
        "hotline_wait": "Thank you. We are putting you through to the person on call. "
                        "You will wait {minutes} minute(s) at most.",
        "hotline_next": "Please hold on a moment longer.",
        "hotline_voicemail": "Nobody is available right now. Leave your message after the beep, then hang "
                             "up: it will be passed on to the on-call team.",
        "hotline_thanks": "Thank you, your message has been passed on to the on-call team. Goodbye.",
        "hotline_whisper": "Customer call for {service}, reason: {reason}. Press 1 to take the call.",
        "hotline_summary": "Customer call {service} — {reason} — {caller}",
    },
}

# The hotline's satisfaction survey (CSAT): asked by SMS after an answered call.
_HOTLINE_CSAT: dict[str, dict[str, str]] = {
    "fr": {
        "hotline_csat_ask": "Merci pour votre appel au support {service}. "
                            "Comment notez-vous la réponse reçue ? "
                            "Répondez par un chiffre de 1 (mauvaise) à 5 (excellente).",
        "hotline_csat_thanks": "Merci pour votre note ({score}/5) !",
        "hotline_csat_already": "Votre appel est déjà noté : merci, rien n'a été changé.",
        "hotline_csat_help": "Pour noter votre appel, répondez par un chiffre de 1 (mauvaise) "
                             "à 5 (excellente).",
    },
    "en": {
        "hotline_csat_ask": "Thank you for calling {service} support. How do you rate the answer you got? "
                            "Reply with a number from 1 (poor) to 5 (excellent).",
        "hotline_csat_thanks": "Thank you for your rating ({score}/5)!",
        "hotline_csat_already": "Your call is already rated: thank you, nothing was changed.",
        "hotline_csat_help": "To rate your call, reply with a number from 1 (poor) to 5 (excellent).",
    },
}
for _lang, _texts in _HOTLINE_CSAT.items():
    TEXTS[_lang].update(_texts)

# The hotline's callbacks: an agent calls the support number to call a customer back.
_HOTLINE_CALLBACK: dict[str, dict[str, str]] = {
    "fr": {
        "hotline_callback_ask": "Rappel d'un client du support {service}. "
                                "Tapez le numéro de l'incident, puis dièse.",
        "hotline_callback_unknown": "Ce numéro n'est pas un appel client de ce support.",
        "hotline_callback_too_old": "Cet incident est clos depuis plus de {days} jours.",
        "hotline_callback_again": "Essayez encore une fois.",
        "hotline_callback_none": "Aucun numéro reçu. Au revoir.",
        "hotline_callback_bye": "Au revoir.",
        "hotline_callback_dialing": "Nous appelons le client de l'incident {number}. "
                                    "Il verra le numéro du support.",
        "hotline_callback_over": "Rappel terminé. Au revoir.",
        "hotline_callback_no_answer": "Le client n'a pas répondu. Au revoir.",
    },
    "en": {
        "hotline_callback_ask": "Customer callback for {service} support. "
                                "Enter the incident number, then the hash key.",
        "hotline_callback_unknown": "That number is not a customer call of this support line.",
        "hotline_callback_too_old": "This incident was closed more than {days} days ago.",
        "hotline_callback_again": "Please try once more.",
        "hotline_callback_none": "No number received. Goodbye.",
        "hotline_callback_bye": "Goodbye.",
        "hotline_callback_dialing": "Calling the customer of incident {number}. "
                                    "They will see the support number.",
        "hotline_callback_over": "Callback over. Goodbye.",
        "hotline_callback_no_answer": "The customer did not answer. Goodbye.",
    },
}
for _lang, _texts in _HOTLINE_CALLBACK.items():
    TEXTS[_lang].update(_texts)

# The responders' page (GET /me): the test page a person sends themself on one channel.
_ME: dict[str, dict[str, str]] = {
    "fr": {
        "me_test": "[Astreinte] Page de test pour {name} par {channel}, envoyée depuis votre page /me. "
                   "Si vous la recevez, ce canal fonctionne : rien d'autre à faire.",
        "me_test_subject": "[Astreinte] Page de test ({channel})",
        "me_test_voice": "Bonjour {name}. Ici Astreinte. Ceci est un appel de test, demandé depuis "
                         "votre page. Ce canal fonctionne : rien d'autre à faire. Au revoir.",
        "me_test_sent": "Page de test envoyée par {channel} à {address}.",
    },
    "en": {
        "me_test": "[Astreinte] Test page for {name} by {channel}, sent from your /me page. "
                   "If you get it, this channel works: nothing else to do.",
        "me_test_subject": "[Astreinte] Test page ({channel})",
        "me_test_voice": "Hello {name}. This is Astreinte. This is a test call, asked for from your page. "
                         "This channel works: nothing else to do. Goodbye.",
        "me_test_sent": "Test page sent by {channel} to {address}.",
    },
}
for _lang, _texts in _ME.items():
    TEXTS[_lang].update(_texts)

# The event's details in the page (links, fields, images) and the short signed details link
# (chalicelib.links.details): in the SMS, by SMS when 2 is pressed on a call, and its page.
_DETAILS: dict[str, dict[str, str]] = {
    "fr": {
        "sms_details": "détails : {url}",
        "details_sms": "[Astreinte] #{number} détails : {url}",
        "voice_details_sent": "Le lien des détails vous est envoyé par SMS. Appuyez sur 4 pour prendre en "
                              "charge, 6 pour clore, 5 pour escalader, 1 pour réécouter.",
        "voice_details_off": "Les détails ne peuvent pas être envoyés par SMS pour le moment. Appuyez sur 4 "
                             "pour prendre en charge, 6 pour clore, 5 pour escalader, 1 pour réécouter.",
        "btn_snooze": "Reporter d'une heure",
        "details_links": "Liens", "details_fields": "Détails", "details_images": "Images",
        "details_timeline": "Derniers événements",
        "details_title": "Incident #{number} — {service}",
        "details_state_triggered": "déclenché", "details_state_acknowledged": "pris en charge",
        "details_state_resolved": "clos",
        "details_gone": "Aucun incident #{number}.",
        "details_act_elsewhere": "Ce lien ne sert plus à agir (ses boutons valent {hours} h, comme le "
                                 "lien du SMS) : pour prendre en charge ou clore, répondez au SMS de "
                                 "l'alerte avec ses codes (4 {number}, 6 {number}) ou ouvrez votre page "
                                 "Astreinte.",
        "details_me": "Ma page Astreinte",
        "details_link_bad": "Ce lien n'est plus valable (expiré ou invalide).",
        "details_link_bad_hint": "Vos incidents et leurs détails sont sur votre page Astreinte.",
    },
    "en": {
        "sms_details": "details: {url}",
        "details_sms": "[Astreinte] #{number} details: {url}",
        "voice_details_sent": "The details link is on its way by text message. Press 4 to acknowledge, "
                              "6 to resolve, 5 to escalate, 1 to hear this again.",
        "voice_details_off": "The details cannot be sent by text message right now. Press 4 to "
                             "acknowledge, 6 to resolve, 5 to escalate, 1 to hear this again.",
        "btn_snooze": "Snooze 1 hour",
        "details_links": "Links", "details_fields": "Details", "details_images": "Images",
        "details_timeline": "Latest events",
        "details_title": "Incident #{number} — {service}",
        "details_state_triggered": "triggered", "details_state_acknowledged": "acknowledged",
        "details_state_resolved": "resolved",
        "details_gone": "There is no incident #{number}.",
        "details_act_elsewhere": "This link no longer acts (its buttons last {hours} h, as the SMS's link "
                                 "does): to acknowledge or resolve, reply to the page's SMS with its codes "
                                 "(4 {number}, 6 {number}) or open your Astreinte page.",
        "details_me": "My Astreinte page",
        "details_link_bad": "This link is no longer valid (expired or invalid).",
        "details_link_bad_hint": "Your incidents and their details are on your Astreinte page.",
    },
}
for _lang, _texts in _DETAILS.items():
    TEXTS[_lang].update(_texts)

# Responders' actions (chalicelib.incidents.actions): answers, notices, the SMS help.
_ACTIONS: dict[str, dict[str, str]] = {
    "fr": {
        "ok_note": "#{number} : note ajoutée.",
        "ok_reassign": "#{number} : réassigné à {to}, appelé maintenant.",
        "ok_snooze": "#{number} : en pause jusqu'à {until} ; s'il n'est pas clos d'ici là, "
                     "il sonnera de nouveau.",
        "ok_responders": "#{number} : {people} appelé(s) en renfort.",
        "ok_merge": "#{number} : fusionné dans #{into} (clos ici, la suite sur #{into}).",
        "ok_customer_reply": "#{number} : réponse envoyée au demandeur sur {ticket}.",
        "not_acknowledged": "#{number} n'est pas pris en charge : seul un incident pris en charge "
                            "peut être mis en pause.",
        "note_notice": "[Astreinte] #{number} note de {by} : {text}",
        "note_notice_subject": "[Astreinte] #{number} : note de {by}",
        "reassigned_notice": "[Astreinte] #{number} réassigné à {to} par {by}.",
        "reassigned_notice_subject": "[Astreinte] #{number} réassigné à {to}",
        "help": "Astreinte : répondez 4 <n°> pour prendre en charge, 6 <n°> pour clore, "
                "5 <n°> pour escalader (ex. 4 12), NOTE <n°> <texte> pour une note, "
                "Z <n°> [minutes] pour mettre en pause (60 par défaut). "
                "ACQ/ACK, CLOS/RES, ESC, N et SNOOZE marchent aussi.",
    },
    "en": {
        "ok_note": "#{number}: note added.",
        "ok_reassign": "#{number}: reassigned to {to}, paged now.",
        "ok_snooze": "#{number}: snoozed until {until}; unless resolved by then, it will page again.",
        "ok_responders": "#{number}: paging {people} as well.",
        "ok_merge": "#{number}: merged into #{into} (resolved here, followed on #{into}).",
        "ok_customer_reply": "#{number}: reply sent to the requester on {ticket}.",
        "not_acknowledged": "#{number} is not acknowledged: only an acknowledged incident can be snoozed.",
        "note_notice": "[Astreinte] #{number} note from {by}: {text}",
        "note_notice_subject": "[Astreinte] #{number}: note from {by}",
        "reassigned_notice": "[Astreinte] #{number} reassigned to {to} by {by}.",
        "reassigned_notice_subject": "[Astreinte] #{number} reassigned to {to}",
        "help": "Astreinte: reply 4 <n> to acknowledge, 6 <n> to resolve, 5 <n> to escalate (e.g. 4 12), "
                "NOTE <n> <text> to add a note, Z <n> [minutes] to snooze (60 by default). "
                "ACK/ACQ, RES/CLOS, ESC, N and SNOOZE work too.",
    },
}
for _lang, _texts in _ACTIONS.items():
    TEXTS[_lang].update(_texts)

# Responders' actions, as reviewed: who cannot be paged, an added responder never reached.
_ACTIONS_REVIEW: dict[str, dict[str, str]] = {
    "fr": {
        "bad_target": "#{number} : impossible d'appeler {to} : aucune règle pour la sévérité {sev_f} "
                      "et ni SMS, ni Slack, ni e-mail.",
        "responder_unreachable": "[Astreinte] #{number} : {name}, appelé(e) en renfort, n'a pas pu être "
                                 "joint(e) ({channel} : {error}). Appelez quelqu'un d'autre ?",
        "responder_unreachable_subject": "[Astreinte] #{number} : {name} injoignable",
    },
    "en": {
        "bad_target": "#{number}: {to} cannot be paged: no rule of theirs for {sev} incidents and "
                      "no SMS, Slack or email.",
        "responder_unreachable": "[Astreinte] #{number}: {name}, added as a responder, could not be "
                                 "reached ({channel}: {error}). Page someone else?",
        "responder_unreachable_subject": "[Astreinte] #{number}: {name} unreachable",
    },
}
for _lang, _texts in _ACTIONS_REVIEW.items():
    TEXTS[_lang].update(_texts)

# The details page's what-changed, notes and human timeline (chalicelib.routes.details), and
# what a channel needs from a person (the /me page, its test page's refusal).
_WALKTHROUGH: dict[str, dict[str, str]] = {
    "fr": {
        "details_meta_local": "Gravité {sev_f} · {state} · source {source} · déclenché le {at}",
        "details_changes": "Ce qui a changé (dans l'heure d'avant)",
        "details_notes": "Notes",
        "tl_triggered": "déclenché",
        "tl_paged": "{name} appelé(e) par {channel}",
        "tl_paged_failed": "échec de l'appel de {name} par {channel}",
        "tl_acknowledged": "pris en charge par {by}",
        "tl_resolved": "clos par {by}",
        "tl_note": "note de {by} : {text}",
        "tl_reassigned": "réassigné à {to} par {by}",
        "tl_snoozed": "en pause jusqu'au {until}, par {by}",
        "tl_unsnoozed": "fin de la pause : il sonne de nouveau",
        "tl_escalated": "escaladé (étape {step})",
        "tl_escalate_requested": "escalade demandée par {by}",
        "tl_responders_added": "renfort demandé par {by} : {people}",
        "tl_merged_into": "fusionné dans #{into}",
        "tl_merged_from": "#{other} fusionné ici",
        "tl_unanswered": "personne n'a répondu",
        "tl_undelivered": "{name} injoignable par {channel}",
        "tl_source": "la source", "tl_astreinte": "Astreinte",
        "ch_sms": "SMS", "ch_voice": "téléphone", "ch_slack": "Slack", "ch_email": "e-mail",
        "ch_whatsapp": "WhatsApp",
        "needs_phone": "un numéro de téléphone", "needs_email": "une adresse e-mail",
        "needs_slack": "un identifiant Slack",
    },
    "en": {
        "details_meta_local": "Severity {sev} · {state} · source {source} · triggered on {at}",
        "details_changes": "What changed (in the hour before)",
        "details_notes": "Notes",
        "tl_triggered": "triggered",
        "tl_paged": "{name} paged by {channel}",
        "tl_paged_failed": "paging {name} by {channel} failed",
        "tl_acknowledged": "acknowledged by {by}",
        "tl_resolved": "resolved by {by}",
        "tl_note": "note from {by}: {text}",
        "tl_reassigned": "reassigned to {to} by {by}",
        "tl_snoozed": "snoozed until {until}, by {by}",
        "tl_unsnoozed": "snooze over: paging again",
        "tl_escalated": "escalated (step {step})",
        "tl_escalate_requested": "escalation asked for by {by}",
        "tl_responders_added": "responders added by {by}: {people}",
        "tl_merged_into": "merged into #{into}",
        "tl_merged_from": "#{other} merged into this one",
        "tl_unanswered": "nobody answered",
        "tl_undelivered": "{name} could not be reached by {channel}",
        "tl_source": "the source", "tl_astreinte": "Astreinte",
        "ch_sms": "SMS", "ch_voice": "phone", "ch_slack": "Slack", "ch_email": "email",
        "ch_whatsapp": "WhatsApp",
        "needs_phone": "a phone number", "needs_email": "an email address",
        "needs_slack": "a Slack user id",
    },
}
for _lang, _texts in _WALKTHROUGH.items():
    TEXTS[_lang].update(_texts)

# Pages in context (issue 14): why a reassigned or added person is paged, with the latest
# note; the footer of pages updated when an incident is open again; times in a person's zone.
_IN_CONTEXT: dict[str, dict[str, str]] = {
    "fr": {
        "why_reassigned": "Réassigné à vous par {by}",
        "why_added": "{by} demande votre aide",
        "why_note": "Dernière note ({by}) : {text}",
        "voice_page_why": "Bonjour {name}. Ici Astreinte. {why}. Incident {number}, gravité {sev_f}, "
                          "service {service} : {summary}. {note}Appuyez sur 4 pour prendre en charge, "
                          "6 pour clore, 5 pour escalader, 2 pour recevoir les détails par SMS, "
                          "1 pour réécouter.",
        "slack_reopened": ":alarm_clock: De nouveau ouvert : la pause prise par {by} est finie",
        "slack_reassigned": ":arrows_counterclockwise: Réassigné à {to} par {by}",
        "zone_time": "{time} (heure de {city})",
        "zone_utc": "{time} UTC",
    },
    "en": {
        "why_reassigned": "Reassigned to you by {by}",
        "why_added": "{by} asks for your help",
        "why_note": "Latest note ({by}): {text}",
        "voice_page_why": "Hello {name}. This is Astreinte. {why}. Incident {number}, severity {sev}, "
                          "service {service}: {summary}. {note}Press 4 to acknowledge, 6 to resolve, "
                          "5 to escalate, 2 to get the details by text message, 1 to hear this again.",
        "slack_reopened": ":alarm_clock: Open again: {by}'s snooze is over",
        "slack_reassigned": ":arrows_counterclockwise: Reassigned to {to} by {by}",
        "zone_time": "{time} ({city} time)",
        "zone_utc": "{time} UTC",
    },
}
for _lang, _texts in _IN_CONTEXT.items():
    TEXTS[_lang].update(_texts)

# A note from Slack (issue 14): the page's button and the modal it opens (chalicelib.notify.slack).
# Slack's limits: a modal's title, submit and close at most 24 characters, a placeholder 150.
_SLACK_NOTE: dict[str, dict[str, str]] = {
    "fr": {
        "slack_note_prompt": ":memo: Une information pour les autres personnes appelées ?",
        "btn_note": "Ajouter une note",
        "note_modal_title": "Note sur #{number}",
        "note_modal_submit": "Ajouter",
        "note_modal_close": "Annuler",
        "note_modal_label": "Votre note (envoyée aux autres personnes appelées)",
        "note_modal_placeholder": "Ce que vous avez vu, fait ou demandé",
        "note_modal_bad": "Écrivez une note de 1 à {max} caractères.",
    },
    "en": {
        "slack_note_prompt": ":memo: Something the others paged should know?",
        "btn_note": "Add a note",
        "note_modal_title": "Note on #{number}",
        "note_modal_submit": "Add",
        "note_modal_close": "Cancel",
        "note_modal_label": "Your note (sent to the others paged)",
        "note_modal_placeholder": "What you saw, did or asked for",
        "note_modal_bad": "Write a note of 1 to {max} characters.",
    },
}
for _lang, _texts in _SLACK_NOTE.items():
    TEXTS[_lang].update(_texts)

VOICE_LANGUAGE = {"fr": "fr-FR", "en": "en-GB"}


def text(lang: str, key: str, **values: Any) -> str:
    table = TEXTS.get(lang) or TEXTS["en"]
    if "sev" in values:
        label = LABELS.get(lang, LABELS["en"]).get(values["sev"], values["sev"])
        after_feminine = AFTER_FEMININE.get(lang, LABELS["en"]).get(values["sev"], label)
        values.update(sev=label, sev_upper=label.upper(), sev_f=after_feminine)
    return table[key].format(**values)


NOTE_SHOWN = 200  # characters of the latest note on a page (the details page has it all)


def local_time(lang: str, ts: float, zone: str | None, seconds: bool = False) -> str:
    """An instant as a person reads it: "06:27 (heure de Paris)", "06:27 (Paris time)";
    "04:27 UTC" without a zone (a team channel) or in UTC."""
    if not zone or zone in ("UTC", "Etc/UTC") or not clock.known_zone(zone):
        return text(lang, "zone_utc", time=clock.hm(ts, "UTC", seconds))
    city = zone.rsplit("/", 1)[-1].replace("_", " ")
    return text(lang, "zone_time", time=clock.hm(ts, zone, seconds), city=city)


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def dated(lang: str, ts: float, zone: tzinfo, full: bool = False) -> str:
    """An instant with its day, as people read it in a zone: "02/12 05:58" / "2 Dec 05:58";
    `full`: "02/12/2026 à 05:58 (Europe/Paris)" / "2 Dec 2026 at 05:58 (Europe/Paris)"."""
    t = datetime.fromtimestamp(ts, zone)
    day = f"{t:%d/%m}" if lang == "fr" else f"{t.day} {_MONTHS_EN[t.month - 1]}"
    if not full:
        return f"{day} {t:%H:%M}"
    at = "à" if lang == "fr" else "at"
    return f"{day}{'/' if lang == 'fr' else ' '}{t.year} {at} {t:%H:%M} ({zone})"


def when(lang: str, view: dict[str, Any]) -> str:
    """When the incident was triggered, for a page: the person's time (`when`, set by
    chalicelib.notify.deliver), else the view's UTC time."""
    return str(view.get("when") or text(lang, "zone_utc", time=view["at"]))


def why_lines(lang: str, view: dict[str, Any]) -> list[str]:
    """Why this person is paged (reassigned to them, asked to help) and the latest note, as
    plain lines (each channel escapes them its way); none for an ordinary page."""
    why = view.get("why")
    if not isinstance(why, dict) or why.get("kind") not in ("reassigned", "added"):
        return []
    lines = [text(lang, f"why_{why['kind']}", by=str(why.get("by") or "?"))]
    note = " ".join(str(why.get("note") or "").split())
    if note:
        short = note if len(note) <= NOTE_SHOWN else note[:NOTE_SHOWN - 1].rstrip() + "…"
        lines.append(text(lang, "why_note", by=str(why.get("note_by") or "?"), text=short))
    return lines
