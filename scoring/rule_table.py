"""docs/rules.md §1's two tables, as the seed data of the scoring rules (a migration loads them)."""

from .rules import Condition, Counting

E, D, ONCE, W = Counting.EVERY, Counting.DAILY, Counting.ONCE, Counting.WINDOW_7_DAYS

# (activity type, points, counting, label)
BEHAVIOUR = [
    ("trial_request", 100, E, "Trial request"),
    ("contact_request", 100, E, "Contact Us form"),
    ("professional_services_request", 100, E, "Professional services request"),
    ("webcast_attended_high_intent", 90, E, "Attended a live webcast, livestream or demo"),
    ("enterprise_trial_page_visit", 50, D, "Visited the enterprise trial page"),
    ("ondemand_watched_high_intent", 45, E, "Watched a high-intent on-demand webcast"),
    ("booth_visit", 30, E, "Visited a booth"),
    ("live_event_attended", 30, E, "Attended a live event"),
    ("gated_asset_download", 30, E, "Downloaded a gated asset"),
    ("webcast_registered", 15, E, "Registered for a webcast"),
    ("webcast_attended_low_intent", 15, E, "Attended a low-intent webcast"),
    ("ondemand_watched_low_intent", 15, E, "Watched a low-intent on-demand webcast"),
    ("newsletter_optin", 10, ONCE, "Opted in to the newsletter"),
    ("security_newsletter_optin", 10, ONCE, "Opted in to the security newsletter"),
    ("webcast_emails_optin", 10, ONCE, "Opted in to webcast emails"),
    ("event_emails_optin", 10, ONCE, "Opted in to event emails"),
    ("pricing_page_visit", 10, D, "Visited the pricing page"),
    ("features_page_visit", 10, D, "Visited the features page"),
    ("installation_page_visit", 2, D, "Visited the installation page"),
    ("email_unsubscribe", -25, E, "Unsubscribed from email"),
    ("career_page_visit", -25, W, "Visited career pages"),
    ("web_chat", 0, E, "Web chat (a touch, not scored)"),
    ("sequence_reply", 0, E, "Sequence reply (a touch, not scored)"),
    ("call", 0, E, "Call (a touch, not scored)"),
    ("email_sent", 0, E, "Email sent (a touch, not scored)"),
    ("meeting", 0, E, "Meeting (a touch, not scored)"),
]

# (key, condition, points, label)
PROFILE = [
    ("title-senior", Condition.SENIOR_TITLE, 50, "Senior title (VP, Director, Manager, Head, Senior)"),
    ("title-junior", Condition.JUNIOR_TITLE, -10, "Title blank, digits only, Developer or Engineer"),
    ("email-company", Condition.COMPANY_EMAIL, 5, "Company email domain"),
    ("email-free", Condition.FREE_EMAIL, -5, "Free-mail email domain"),
]


def behaviour_key(activity_type: str) -> str:
    return f"activity-{activity_type.replace('_', '-')}"
