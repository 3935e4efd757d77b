from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from leads import domains, tiers
from leads.models import (
    Account,
    Activity,
    ActivityType,
    Contact,
    Enrollment,
    InitialSource,
    Lead,
    Sequence,
    SequenceStep,
    Status,
    StepType,
    Touch,
)
from opportunities.iqms import iqm_subject
from opportunities.models import IQM, Opportunity, Stage
from routing import facts, geo, segments
from sdrcrm.models import Region, Role, Team, User

PASSWORD = "correct-horse-battery-9"

# The factories keep the services' invariants: what a service derives from a record's fields
# is derived here by the same pure functions (a LazyAttribute, so a value a test passes still
# wins), and what a service normalises on the way in (emails, an account's domain) is
# normalised here too (a Transformer: pass factory.Transformer.Force(value) to store a value
# as it is, e.g. a row written before the normalisation existed).


def normalised_email(email: str) -> str:
    """As leads.checks.check_email_allowed stores it: stripped and lower-cased."""
    return email.strip().lower()


def normalised_domain(domain: str) -> str:
    """As leads.accounts.save_account stores it ('' stays '')."""
    return domains.normalise_domain(domain) if domain else ""


def classify(person) -> Lead:
    """A lead holding what routing.facts.classify derives from `person`'s fields: region,
    sub-region and segment (with the factory's account: classify's match=False)."""
    lead = Lead(email=person.email or "", country=person.country, state=person.state, industry=person.industry,
                employee_count=person.employee_count, public_sector=person.public_sector, account=person.account)
    facts.classify(lead, match=False)
    return lead


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    region = Region.AMER


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.SDR
    region = Region.AMER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy hook
        if create:
            obj.save()


class AccountFactory(factory.django.DjangoModelFactory):
    """An account as leads.accounts.save_account stores it: the domain normalised; the name
    key, region and tier derived from its fields; its segment that of its employee count
    (the segment of a hierarchy, set on save by refresh_hierarchy_segments, is not derived
    here: pass `segment` with `parent`)."""

    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Company {n}")
    domain = factory.Transformer(factory.Sequence(lambda n: f"company{n}.com"), transform=normalised_domain)
    country = "US"
    state = ""
    employee_count = None
    # The tier's five qualifiers (leads.tiers), at the model's defaults.
    using_ce = False
    it_employees = None
    industry = ""
    tech_stack = ""
    devops_adoption = False

    name_key = factory.LazyAttribute(lambda a: domains.normalise_company(a.name))
    region = factory.LazyAttribute(lambda a: geo.region_for(a.country, a.state)[0])
    tier = factory.LazyAttribute(tiers.tier_of)
    segment = factory.LazyAttribute(lambda a: segments.segment_for(a.employee_count))


class PersonFactory(factory.django.DjangoModelFactory):
    """A lead or contact with its email lower-cased, and the region, sub-region and segment
    routing.facts.classify derives from its fields (a contact has them from its lead)."""

    class Meta:
        abstract = True

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = "Acme"
    country = "US"
    state = ""
    industry = ""
    employee_count = None
    public_sector = False
    account = None
    status = Status.RAW
    status_changed_at = factory.LazyFunction(timezone.now)
    initial_source = InitialSource.WEBCAST

    region = factory.LazyAttribute(lambda person: person.classified.region)
    sub_region = factory.LazyAttribute(lambda person: person.classified.sub_region)
    segment = factory.LazyAttribute(lambda person: person.classified.segment)

    class Params:
        classified = factory.LazyAttribute(classify)


class LeadFactory(PersonFactory):
    class Meta:
        model = Lead

    email = factory.Transformer(factory.Sequence(lambda n: f"lead{n}@acme{n % 50}.com"), transform=normalised_email)
    email_domain = factory.LazyAttribute(lambda lead: domains.email_domain(lead.email))


class ContactFactory(PersonFactory):
    class Meta:
        model = Contact

    email = factory.Transformer(factory.Sequence(lambda n: f"contact{n}@acme{n % 50}.com"),
                                transform=normalised_email)


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    lead = factory.SubFactory(LeadFactory)
    type = ActivityType.PRICING_PAGE_VISIT
    occurred_at = factory.LazyFunction(timezone.now)


class SequenceFactory(factory.django.DjangoModelFactory):
    """A sequence with `steps` steps (default 3: days 0, 2, 4, automatic emails)."""

    class Meta:
        model = Sequence
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Sequence {n}")
    touch = Touch.HIGH

    @factory.post_generation
    def steps(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy hook
        if create:
            count = 3 if extracted is None else extracted
            for position in range(1, count + 1):
                SequenceStepFactory(sequence=obj, position=position, day_offset=2 * (position - 1))


class SequenceStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SequenceStep

    sequence = factory.SubFactory(SequenceFactory, steps=0)
    position = 1
    day_offset = 0
    type = StepType.AUTO_EMAIL


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    sequence = factory.SubFactory(SequenceFactory)
    lead = factory.SubFactory(LeadFactory)
    enrolled_at = factory.LazyFunction(timezone.now)


class OpportunityFactory(factory.django.DjangoModelFactory):
    """A stage-0 opportunity owned by a new AE and credited to a new SDR."""

    class Meta:
        model = Opportunity

    name = factory.Sequence(lambda n: f"Opportunity {n}")
    account = factory.SubFactory(AccountFactory)
    owner = factory.SubFactory(UserFactory, role=Role.AE)
    sdr = factory.SubFactory(UserFactory, role=Role.SDR)
    stage = Stage.PENDING_ACCEPTANCE
    stage_changed_at = factory.LazyFunction(timezone.now)


class IQMFactory(factory.django.DjangoModelFactory):
    """An IQM with a new lead (pass `lead=None, contact=...` for one with a contact); its
    subject and account follow from the person and the opportunity, as book_iqm sets them."""

    class Meta:
        model = IQM

    lead = factory.SubFactory(LeadFactory)
    contact = None
    opportunity = None
    subject = factory.LazyAttribute(lambda iqm: iqm_subject(iqm.lead or iqm.contact))
    account = factory.LazyAttribute(lambda iqm: (iqm.lead or iqm.contact).account
                                    or (iqm.opportunity.account if iqm.opportunity else None))
    sdr = factory.SubFactory(UserFactory, role=Role.SDR)
    start = factory.LazyFunction(timezone.now)
    end = factory.LazyAttribute(lambda iqm: iqm.start + timedelta(minutes=30))
