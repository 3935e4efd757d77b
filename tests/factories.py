from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

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
from opportunities.models import IQM, Opportunity, Stage
from sdrcrm.models import Region, Role, Team, User

PASSWORD = "correct-horse-battery-9"


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
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Company {n}")
    name_key = factory.LazyAttribute(lambda a: a.name.lower())
    domain = factory.Sequence(lambda n: f"company{n}.com")
    country = "US"


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = "Acme"
    country = "US"
    status = Status.RAW
    status_changed_at = factory.LazyFunction(timezone.now)
    initial_source = InitialSource.WEBCAST


class LeadFactory(PersonFactory):
    class Meta:
        model = Lead

    email = factory.Sequence(lambda n: f"lead{n}@acme{n % 50}.com")
    email_domain = factory.LazyAttribute(lambda lead: lead.email.rpartition("@")[2].lower())


class ContactFactory(PersonFactory):
    class Meta:
        model = Contact

    email = factory.Sequence(lambda n: f"contact{n}@acme{n % 50}.com")


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
    class Meta:
        model = IQM

    lead = factory.SubFactory(LeadFactory)
    subject = factory.LazyAttribute(lambda iqm: f"{iqm.lead.first_name} {iqm.lead.last_name} - IQM")
    sdr = factory.SubFactory(UserFactory, role=Role.SDR)
    start = factory.LazyFunction(timezone.now)
    end = factory.LazyAttribute(lambda iqm: iqm.start + timedelta(minutes=30))
