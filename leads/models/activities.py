"""Activities: the behaviours and touches on a lead or contact, the input of scoring."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from sdrcrm.models import User

from .people import Contact, Lead

USER = settings.AUTH_USER_MODEL
# How far ahead of our clock a sender's clock may run: activities and sequence events
# dated later than now + this are refused.
MAX_CLOCK_SKEW = timedelta(days=1)


class ActivityType(models.TextChoices):
    TRIAL_REQUEST = "trial_request", "Trial request"
    CONTACT_REQUEST = "contact_request", "Contact request"
    PROFESSIONAL_SERVICES_REQUEST = "professional_services_request", "Professional services request"
    WEBCAST_ATTENDED_HIGH_INTENT = "webcast_attended_high_intent", "Webcast attended (high intent)"
    ENTERPRISE_TRIAL_PAGE_VISIT = "enterprise_trial_page_visit", "Enterprise trial page visit"
    ONDEMAND_WATCHED_HIGH_INTENT = "ondemand_watched_high_intent", "On-demand watched (high intent)"
    BOOTH_VISIT = "booth_visit", "Booth visit"
    LIVE_EVENT_ATTENDED = "live_event_attended", "Live event attended"
    GATED_ASSET_DOWNLOAD = "gated_asset_download", "Gated asset download"
    WEBCAST_REGISTERED = "webcast_registered", "Webcast registered"
    WEBCAST_ATTENDED_LOW_INTENT = "webcast_attended_low_intent", "Webcast attended (low intent)"
    ONDEMAND_WATCHED_LOW_INTENT = "ondemand_watched_low_intent", "On-demand watched (low intent)"
    NEWSLETTER_OPTIN = "newsletter_optin", "Newsletter opt-in"
    SECURITY_NEWSLETTER_OPTIN = "security_newsletter_optin", "Security newsletter opt-in"
    WEBCAST_EMAILS_OPTIN = "webcast_emails_optin", "Webcast emails opt-in"
    EVENT_EMAILS_OPTIN = "event_emails_optin", "Event emails opt-in"
    PRICING_PAGE_VISIT = "pricing_page_visit", "Pricing page visit"
    FEATURES_PAGE_VISIT = "features_page_visit", "Features page visit"
    INSTALLATION_PAGE_VISIT = "installation_page_visit", "Installation page visit"
    EMAIL_UNSUBSCRIBE = "email_unsubscribe", "Email unsubscribe"
    CAREER_PAGE_VISIT = "career_page_visit", "Career page visit"
    WEB_CHAT = "web_chat", "Web chat"
    SEQUENCE_REPLY = "sequence_reply", "Sequence reply"
    CALL = "call", "Call"
    EMAIL_SENT = "email_sent", "Email sent"
    LINKEDIN_MESSAGE = "linkedin_message", "LinkedIn message"
    MEETING = "meeting", "Meeting"
    NOTE = "note", "Note"


# What a person logs by hand on a record page (the rest arrive from marketing systems).
TOUCH_TYPES = (ActivityType.CALL, ActivityType.EMAIL_SENT, ActivityType.LINKEDIN_MESSAGE, ActivityType.MEETING,
               ActivityType.NOTE)


class CallOutcome(models.TextChoices):
    CONNECTED = "connected", "Connected"
    VOICEMAIL = "voicemail", "Left a voicemail"
    NO_ANSWER = "no_answer", "No answer"



class ActivityQuerySet(models.QuerySet["Activity"]):
    def visible_to(self, user: User) -> ActivityQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(
            Q(lead__in=Lead.objects.visible_to(user)) | Q(contact__in=Contact.objects.visible_to(user))
        )


class Activity(models.Model):
    """A behaviour or touch on exactly one lead or contact; the input of scoring."""

    # No single-column indexes on the person and author: activity_lead, activity_contact and
    # activity_by lead with them, and each index is one more write on every ingested activity.
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="activities",
                             db_index=False)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="activities", db_index=False
    )
    type = models.CharField(max_length=40, choices=ActivityType.choices)
    occurred_at = models.DateTimeField()
    details = models.JSONField(default=dict, blank=True)
    source_system = models.CharField(max_length=50, blank=True)
    # The sending system's own id for the activity: sent again, it is the same activity.
    external_id = models.CharField(max_length=100, blank=True, default="", db_default="")
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ActivityQuerySet.as_manager()
    resent = False  # set by leads.services.record_activity when the external id was known

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(lead__isnull=False) & Q(contact__isnull=True))
                | (Q(lead__isnull=True) & Q(contact__isnull=False)),
                name="activity_one_person",
            ),
            models.UniqueConstraint(fields=["source_system", "external_id"], condition=~Q(external_id=""),
                                    name="activity_external_id"),
        ]
        indexes = [
            models.Index(fields=["lead", "occurred_at"], name="activity_lead"),
            models.Index(fields=["contact", "occurred_at"], name="activity_contact"),
            # The SAO dashboard's dials and emails per SDR in a period.
            models.Index(fields=["created_by", "occurred_at"], name="activity_by"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} @ {self.occurred_at:%Y-%m-%d %H:%M}"

    @property
    def summary(self) -> str:
        """How a touch went and its notes, in words, for the record's page."""
        outcome = self.details.get("outcome") if isinstance(self.details, dict) else None
        notes = self.details.get("notes", "") if isinstance(self.details, dict) else ""
        label = CallOutcome(outcome).label if outcome in CallOutcome.values else ""
        return " · ".join(part for part in (label, notes) if part)

