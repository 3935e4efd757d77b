from django.db import migrations

POOLS = [
    ("EMEA BDR", "Trials, contact and PS requests from EMEA."),
    ("US/APAC BDR", "Trials (AMER, APAC, US public sector), contact and PS requests from AMER and APAC."),
    ("Customer Advocate AMER", "SMB contact requests, AMER."),
    ("Customer Advocate EMEA", "SMB contact requests, EMEA."),
    ("Customer Advocate APAC", "SMB contact requests, APAC."),
    ("BDR Prequalification", "Contact requests whose segment is unknown."),
    ("PubSec SDR", "Public-sector contact requests."),
    ("ABM SDR", "Leads at ABM tier 1 and 2 accounts."),
]
RULES = [
    ("account_bdr", "Matched account actively worked by a BDR → that BDR"),
    ("customer_smb", "Customer account and SMB lead → contact of the account, account owner notified"),
    ("open_opportunity", "Account with an open opportunity (not a customer) → recycle (evaluating)"),
    ("domain_mql", "No account, another MQL at the domain → owner of the earliest MQL"),
    ("domain_working", "No account, another lead at the domain accepted or qualifying → its owner"),
    ("professional_services", "Professional services request → account SAL, else regional BDR pool"),
    ("trial", "Trial → BDR round robin by region (EMEA BDR; US/APAC BDR)"),
    ("contact_request", "Contact request → BDR pool, Customer Advocate, Prequalification or PubSec"),
    ("named_or_abm", "Named account → SDR paired with the SAL; ABM tier 1/2 → ABM SDR"),
    ("territory", "Territory SDR for region/segment; none → Unassigned, ops alerted"),
]


def seed(apps, schema_editor):
    Pool = apps.get_model("routing", "Pool")
    RuleSet = apps.get_model("routing", "RuleSet")
    RoutingRule = apps.get_model("routing", "RoutingRule")
    for name, description in POOLS:
        Pool.objects.get_or_create(name=name, defaults={"description": description})
    if not RuleSet.objects.exists():
        ruleset = RuleSet.objects.create(version=1, state="active", note="Handbook defaults (docs/rules.md §2)")
        RoutingRule.objects.bulk_create(
            RoutingRule(ruleset=ruleset, position=i, kind=kind, label=label) for i, (kind, label) in enumerate(RULES, 1)
        )


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
